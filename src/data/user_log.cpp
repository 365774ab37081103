#include "upm/data/user_log.h"

#include <algorithm>
#include <map>

#include "field_reader.h"
#include "upm/core/atomic_file.h"

namespace upm::data {

std::optional<UserLog> parse_user_log(const JsonlRecord& record, Problems& problems) {
  const std::size_t before = problems.size();
  detail::FieldReader f(record, record.value, "", problems);
  UserLog log;
  auto user_id = f.string("user_id", true);
  f.mark_known("events");
  if (!f.has("events")) {
    f.problem("events", "required field is missing");
  } else if (!f.at("events").is_array()) {
    f.problem("events", std::string("expected an array, got ") + f.at("events").type_name());
  } else {
    const auto& events = f.at("events");
    std::map<std::string, std::size_t> first_index;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string path = "events[" + std::to_string(i) + "]";
      auto event = parse_event(record, events[i], path, problems);
      if (!event) continue;
      auto [it, fresh] = first_index.emplace(event->id, i);
      if (!fresh) {
        problems.push_back({record.where(path + ".id"), "duplicate event id \"" + event->id + "\" (first at events[" +
                                                            std::to_string(it->second) + "])"});
        continue;
      }
      log.events.push_back(std::move(*event));
    }
  }
  if (problems.size() != before) return std::nullopt;
  log.user_id = *user_id;
  log.extra = f.unknown_fields();
  return log;
}

nlohmann::json to_json(const UserLog& log) {
  nlohmann::json j = log.extra;
  j["user_id"] = log.user_id;
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : log.events) events.push_back(to_json(e));
  j["events"] = std::move(events);
  return j;
}

std::vector<UserLog> read_user_logs(const std::string& path, const ReadOptions& options, ReadReport* report) {
  return read_unique_records<UserLog>(
      path, options, report, parse_user_log, [](const UserLog& log) { return "user id \"" + log.user_id + "\""; },
      "user_id");
}

void write_user_logs(const std::string& path, const std::vector<UserLog>& logs) {
  AtomicFileWriter out(path);
  for (const auto& log : logs) out.write(to_json(log).dump() + "\n");
  out.commit();
}

std::vector<Event> chronological(const std::vector<Event>& events) {
  std::vector<Event> out = events;
  bool all_timed = std::all_of(out.begin(), out.end(), [](const Event& e) { return !e.ts.empty(); });
  if (all_timed) {
    std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  }
  return out;
}

}  // namespace upm::data
