#include "upm/pipeline/teach/event_statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "upm/pipeline/profile/profile_text.h"

namespace upm {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// Tone markers of an answer (lower-cased text).
const std::vector<std::string> kCasualMarkers{"!", ":)", ";)", "sure thing", "hey", "gonna", "lol", "awesome"};
const std::vector<std::string> kFormalMarkers{"certainly", "i hope this is helpful", "please note", "kindly",
                                              "regards",   "i would be glad"};

int marker_count(const std::string& text, const std::vector<std::string>& markers) {
  int n = 0;
  for (const auto& m : markers) n += count_of(text, m);
  return n;
}

// Length of an answer without its tone markers, so that a politer wrapper
// does not read as a longer answer.
double content_length(std::string text) {
  for (const auto* markers : {&kCasualMarkers, &kFormalMarkers}) {
    for (const auto& m : *markers) {
      for (size_t at = text.find(m); at != std::string::npos; at = text.find(m)) text.erase(at, m.size());
    }
  }
  return double(trim_text(text).size());
}

void vote_style(const data::Event& e, EventStatistics& stats) {
  const std::string chosen = lower(e.chosen), rejected = lower(e.rejected);
  const int tone = (marker_count(chosen, kFormalMarkers) - marker_count(rejected, kFormalMarkers)) -
                   (marker_count(chosen, kCasualMarkers) - marker_count(rejected, kCasualMarkers));
  if (tone > 0) stats.formal += 1;
  if (tone < 0) stats.casual += 1;
  const double a = content_length(chosen), b = content_length(rejected);
  if (a > 0 && b > 0) {
    if (a < 0.75 * b) stats.concise += 1;
    if (a > 1.33 * b) stats.detailed += 1;
  }
}

// A statement about answer style; true if it was one.
bool statement_style(const std::string& text, double weight, EventStatistics& stats) {
  bool style = false;
  if (contains(text, "short") || contains(text, "concise") || contains(text, "to the point") ||
      contains(text, "brief")) {
    stats.concise += weight;
    style = true;
  } else if (contains(text, "detailed") || contains(text, "thorough") || contains(text, "in depth")) {
    stats.detailed += weight;
    style = true;
  }
  if (contains(text, "casual") || contains(text, "informal")) {
    stats.casual += weight;
    style = true;
  } else if (contains(text, "formal") || contains(text, "polite")) {
    stats.formal += weight;
    style = true;
  }
  return style;
}

// "I really enjoy cooking." -> {cooking, +1}; at most three words named.
bool statement_topic(const std::string& text, std::string& topic, int& sign) {
  static const std::vector<std::pair<const char*, int>> cues{
      {"i can't stand ", -1}, {"i cannot stand ", -1}, {"i hate ", -1},   {"i dislike ", -1},
      {"i never watch ", -1}, {"i never read ", -1},   {"i avoid ", -1},  {"i don't like ", -1},
      {"not a fan of ", -1},  {"i really enjoy ", 1},  {"i enjoy ", 1},   {"i love ", 1},
      {"i really like ", 1},  {"i like ", 1},          {"big fan of ", 1}};
  for (const auto& [cue, s] : cues) {
    const size_t at = text.find(cue);
    if (at == std::string::npos) continue;
    std::string rest = text.substr(at + std::string(cue).size());
    rest = rest.substr(0, rest.find_first_of(".!?,;"));
    if (rest.rfind("the ", 0) == 0) rest = rest.substr(4);
    rest = trim_text(rest);
    if (rest.empty() || std::count(rest.begin(), rest.end(), ' ') > 2) return false;
    topic = rest;
    sign = s;
    return true;
  }
  return false;
}

// An item of several topics shares its vote among them: its rating says less
// about each one.
void vote_topics(const std::vector<std::string>& topics, double weight, EventStatistics& stats) {
  for (const auto& t : topics) add_topic_vote(stats, t, weight / double(topics.size()));
}

// `rating_mean`: the mean normalized rating the votes are centered on
// (used with weights.center_ratings only).
void tally_one(const data::Event& e, const VoteWeights& weights, double rating_mean, EventStatistics& stats) {
  switch (e.kind) {
    case data::EventKind::rating:
      vote_topics(
          item_topics(e.item, e.category),
          weights.center_ratings ? 2.0 * (e.normalized_value() - rating_mean) : 2.0 * e.normalized_value() - 1.0,
          stats);
      break;
    case data::EventKind::click: vote_topics(item_topics(e.item, e.category), weights.click, stats); break;
    case data::EventKind::pairwise: {
      auto chosen = item_topics(e.chosen, ""), rejected = item_topics(e.rejected, "");
      if (chosen.empty() && rejected.empty()) {
        vote_style(e, stats);
        break;
      }
      // A topic on both sides says nothing about it.
      for (const auto& t : chosen) {
        if (std::find(rejected.begin(), rejected.end(), t) == rejected.end()) add_topic_vote(stats, t, 1.0);
      }
      for (const auto& t : rejected) {
        if (std::find(chosen.begin(), chosen.end(), t) == chosen.end()) add_topic_vote(stats, t, -1.0);
      }
      break;
    }
    case data::EventKind::text: {
      const std::string text = lower(e.text);
      if (statement_style(text, weights.text, stats)) break;
      std::string topic;
      int sign = 0;
      if (statement_topic(text, topic, sign)) add_topic_vote(stats, topic, sign * weights.text);
      break;
    }
  }
}

std::string signed_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%+.1f", v);
  return buffer;
}

}  // namespace

std::vector<std::string> item_topics(const std::string& item, const std::string& category) {
  std::vector<std::string> out;
  auto add = [&](const std::string& raw) {
    std::string t = trim_text(raw, " \t\r\n.");
    if (t.empty() || t.size() > 40) return;
    for (const auto& seen : out) {
      if (lower(seen) == lower(t)) return;
    }
    out.push_back(t);
  };
  // "Category: a and b | Title: text" (category first) or "Title | a, b: text" / "name | section | text".
  static const std::string kCategory = "Category: ";
  std::string field;
  const size_t bar = item.find(" | ");
  if (item.compare(0, kCategory.size(), kCategory) == 0) {
    field = item.substr(kCategory.size(), bar == std::string::npos ? std::string::npos : bar - kCategory.size());
  } else if (bar != std::string::npos) {
    field = item.substr(bar + 3);
    field = field.substr(0, std::min(field.find(" | "), field.find(':')));
  }
  if (!field.empty()) {
    std::string rest = field;
    for (;;) {
      const size_t comma = rest.find(','), and_pos = rest.find(" and ");
      const size_t cut = std::min(comma, and_pos);
      if (cut == std::string::npos) break;
      add(rest.substr(0, cut));
      rest = rest.substr(cut + (cut == comma ? 1 : 5));
    }
    add(rest);
  }
  if (!category.empty()) add(category);
  return out;
}

void add_topic_vote(EventStatistics& stats, const std::string& topic, double weight) {
  const std::string key = lower(topic);
  stats.topic_names.emplace(key, topic);
  TopicVotes& v = stats.topics[key];
  v.score += weight;
  v.events += 1;
}

EventStatistics tally_events(const std::vector<data::Event>& events, const VoteWeights& weights) {
  EventStatistics stats;
  double rating_mean = 0.5;
  if (weights.center_ratings) {
    double sum = 0.0;
    int n = 0;
    for (const auto& e : events) {
      if (e.kind != data::EventKind::rating) continue;
      sum += e.normalized_value();
      ++n;
    }
    if (n > 0) rating_mean = sum / n;
  }
  for (const auto& e : events) {
    ++stats.events;
    ++stats.kinds[data::kind_name(e.kind)];
    if (!e.source.empty()) ++stats.sources[e.source];
    tally_one(e, weights, rating_mean, stats);
  }
  return stats;
}

std::string describe_statistics(const EventStatistics& stats) {
  std::string out = "Read " + std::to_string(stats.events) + " events (";
  bool first = true;
  for (const auto& [kind, n] : stats.kinds) {
    out += (first ? "" : ", ") + std::to_string(n) + " " + kind;
    first = false;
  }
  out += ").";
  std::vector<std::pair<std::string, TopicVotes>> ranked(stats.topics.begin(), stats.topics.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return std::abs(a.second.score) > std::abs(b.second.score); });
  if (!ranked.empty()) {
    out += " Topic votes:";
    for (size_t i = 0; i < ranked.size() && i < 8; ++i) {
      out += (i ? ";" : "") + std::string(" ") + stats.topic_names.at(ranked[i].first) + " " +
             signed_number(ranked[i].second.score) + " from " + std::to_string(ranked[i].second.events) + " events";
    }
    out += ".";
  }
  out += " Answer style votes: concise " + signed_number(stats.concise) + ", detailed " +
         signed_number(stats.detailed) + ", formal " + signed_number(stats.formal) + ", casual " +
         signed_number(stats.casual) + ".";
  return out;
}

}  // namespace upm
