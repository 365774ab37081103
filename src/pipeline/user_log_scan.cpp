#include "upm/pipeline/user_log_scan.h"

#include <map>

#include "upm/core/jsonl.h"
#include "upm/data/record_reader.h"

namespace upm {

void scan_user_logs(const std::string& path, const UserCallback& on_user, const UserErrorCallback& on_error) {
  JsonlReader reader(path);
  std::map<std::string, size_t> first_line;
  while (auto record = reader.next()) {
    std::string user_id;
    if (record->ok() && record->value.contains("user_id") && record->value["user_id"].is_string()) {
      user_id = record->value["user_id"].get<std::string>();
    }
    if (!record->ok()) {
      on_error(user_id, record->line, format_location(record->where(), data::describe_unparsable(*record)));
      continue;
    }
    data::Problems problems;
    auto log = data::parse_user_log(*record, problems);
    if (!log) {
      std::string message;
      for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p.message();
      on_error(user_id, record->line, message);
      continue;
    }
    auto [it, fresh] = first_line.emplace(log->user_id, record->line);
    if (!fresh) {
      on_error(user_id, record->line,
               format_location(record->where("user_id"), "duplicate user id \"" + user_id + "\" (first at line " +
                                                             std::to_string(it->second) + ")"));
      continue;
    }
    if (!on_user(std::move(*log), record->line)) return;
  }
}

}  // namespace upm
