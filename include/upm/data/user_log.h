#pragma once
// The user log (docs/design.md): JSONL, one user per line,
//   {"user_id": "u17", "events": [ {event}, ... ], ...unknown fields kept}
// Validation: user_id a non-empty string, events an array of valid events
// (see event.h) with ids unique within the user, user ids unique within a file.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/event.h"
#include "upm/data/record_reader.h"

namespace upm::data {

struct UserLog {
  std::string user_id;
  std::vector<Event> events;  // in log order
  nlohmann::json extra = nlohmann::json::object();
};

// Parses one record; appends every problem and returns nullopt if any.
std::optional<UserLog> parse_user_log(const JsonlRecord& record, Problems& problems);

nlohmann::json to_json(const UserLog& log);

// Reads and validates a user-log file (strict or skip-and-reject, see
// record_reader.h), checking user ids unique across the file.
std::vector<UserLog> read_user_logs(const std::string& path, const ReadOptions& options = {},
                                    ReadReport* report = nullptr);

// Writes logs as JSONL, atomically.
void write_user_logs(const std::string& path, const std::vector<UserLog>& logs);

// Events in chronological order: sorted by ts (stable) when every event has
// one, else log order (a log without timestamps is taken to be chronological).
std::vector<Event> chronological(const std::vector<Event>& events);

}  // namespace upm::data
