#include "upm/train/embed_data.h"

#include <algorithm>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"

namespace upm {

std::vector<EmbedPair> read_embed_pairs(const std::string& path) {
  JsonlReader reader(path);
  std::vector<EmbedPair> pairs;
  while (auto record = reader.next_strict()) {
    EmbedPair p;
    p.line = record->line;
    p.user_id = get_field<std::string>(*record, record->value, "user_id");
    p.query = get_field<std::string>(*record, record->value, "query");
    p.positive = get_field<std::string>(*record, record->value, "positive");
    if (p.user_id.empty()) record->fail("user_id", "must not be empty");
    if (p.query.empty()) record->fail("query", "must not be empty");
    if (p.positive.empty()) record->fail("positive", "must not be empty");
    pairs.push_back(std::move(p));
  }
  if (pairs.empty()) throw InputError(Location{path, 0, ""}, "no pairs in the file");
  return pairs;
}

void write_embed_pairs(const std::string& path, const std::vector<EmbedPair>& pairs) {
  std::string text;
  for (const auto& p : pairs) {
    text += nlohmann::json{{"user_id", p.user_id}, {"query", p.query}, {"positive", p.positive}}.dump() + "\n";
  }
  write_file_atomic(path, text);
}

std::optional<std::string> positive_text(const data::Event& event, double min_rating) {
  switch (event.kind) {
    case data::EventKind::rating:
      if (event.normalized_value() >= min_rating) return event.item;
      return std::nullopt;
    case data::EventKind::click: return event.item;
    case data::EventKind::pairwise: return event.chosen;
    case data::EventKind::text: return event.text;
  }
  return std::nullopt;
}

HeldOut hold_out_positives(const std::vector<data::UserLog>& logs, const HoldoutOptions& options) {
  HeldOut out;
  for (const auto& log : logs) {
    std::vector<data::Event> events = data::chronological(log.events);
    std::vector<bool> held(events.size(), false);
    int64_t taken = 0;
    // Newest first: the history keeps the older behaviour, as a model would
    // see it before predicting what comes next.
    for (size_t i = events.size(); i-- > 0 && taken < options.per_user;) {
      auto query = options.queries.find(events[i].source);
      if (query == options.queries.end()) continue;
      std::optional<std::string> positive = positive_text(events[i], options.min_rating);
      if (!positive || positive->empty()) continue;
      out.pairs.push_back({log.user_id, query->second, *positive});
      held[i] = true;
      ++taken;
    }
    data::UserLog history = log;
    history.events.clear();
    for (size_t i = 0; i < events.size(); ++i) {
      if (!held[i]) history.events.push_back(events[i]);
    }
    out.histories.push_back(std::move(history));
  }
  return out;
}

}  // namespace upm
