#include "upm/data/pairwise_import.h"

#include <map>
#include <set>

namespace upm::data {

namespace {

// The event object of one pair: the dataset's names mapped to the log's.
nlohmann::json pair_as_event(const nlohmann::json& pair, const PairwiseImportConfig& config, std::size_t number) {
  nlohmann::json event = nlohmann::json::object();
  for (auto it = pair.begin(); it != pair.end(); ++it) {
    if (it.key() == config.user_field) continue;
    event[it.key() == "prompt" ? "context" : it.key()] = it.value();
  }
  if (!event.contains("ts") && event.contains("timestamp") && event["timestamp"].is_string()) {
    event["ts"] = event["timestamp"];
    event.erase("timestamp");
  }
  if (!event.contains("id")) event["id"] = "p" + std::to_string(number);
  if (!event.contains("kind")) event["kind"] = "pairwise";
  if (!event.contains("source")) event["source"] = config.source;
  return event;
}

}  // namespace

std::vector<UserLog> pairwise_to_logs(const std::string& path, const PairwiseImportConfig& config,
                                      const ReadOptions& options, ReadReport* report) {
  std::vector<UserLog> logs;
  std::map<std::string, std::size_t> index_of;
  std::map<std::string, std::set<std::string>> ids_of;
  ReadReport local = read_validated(path, options, [&](const JsonlRecord& record, Problems& problems) {
    const auto& value = record.value;
    auto user = value.find(config.user_field);
    if (user == value.end() || !user->is_string() || user->get<std::string>().empty()) {
      problems.push_back({record.where(config.user_field), user == value.end()
                                                               ? "required field is missing"
                                                               : "expected a non-empty string, got " + user->dump()});
      return;
    }
    const std::string user_id = user->get<std::string>();
    std::vector<std::pair<std::string, const nlohmann::json*>> pairs;  // (field path, object)
    if (value.contains("pairs")) {
      if (!value["pairs"].is_array()) {
        problems.push_back(
            {record.where("pairs"), std::string("expected an array, got ") + value["pairs"].type_name()});
        return;
      }
      for (std::size_t i = 0; i < value["pairs"].size(); ++i) {
        pairs.emplace_back("pairs[" + std::to_string(i) + "]", &value["pairs"][i]);
      }
    } else {
      pairs.emplace_back("", &value);
    }
    std::set<std::string>& ids = ids_of[user_id];
    std::vector<Event> events;
    std::set<std::string> new_ids;
    for (const auto& [where, pair] : pairs) {
      if (!pair->is_object()) {
        problems.push_back({record.where(where), std::string("expected an object, got ") + pair->type_name()});
        continue;
      }
      nlohmann::json object = pair_as_event(*pair, config, ids.size() + new_ids.size() + 1);
      auto event = parse_event(record, object, where, problems);
      if (!event) continue;
      if (ids.count(event->id) || !new_ids.insert(event->id).second) {
        problems.push_back({record.where(where.empty() ? "id" : where + ".id"),
                            "duplicate event id \"" + event->id + "\" for user \"" + user_id + "\""});
        continue;
      }
      events.push_back(std::move(*event));
    }
    if (!problems.empty()) return;
    ids.insert(new_ids.begin(), new_ids.end());
    auto [it, fresh] = index_of.emplace(user_id, logs.size());
    if (fresh) {
      logs.emplace_back();
      logs.back().user_id = user_id;
    }
    for (auto& e : events) logs[it->second].events.push_back(std::move(e));
  });
  if (report) *report = std::move(local);
  return logs;
}

}  // namespace upm::data
