#pragma once
// Streams a user-log file for a per-user job: every record either reaches
// `on_user` (a valid log whose user id is new to the file) or `on_error`
// (unparsable line, invalid field, duplicate user id) with its line and a
// "file:line: field: problem" message. Nothing is dropped silently.

#include <cstddef>
#include <functional>
#include <string>

#include "upm/data/user_log.h"

namespace upm {

// Return false from `on_user` to stop reading.
using UserCallback = std::function<bool(data::UserLog&& log, size_t line)>;
using UserErrorCallback = std::function<void(const std::string& user_id, size_t line, const std::string& problem)>;

void scan_user_logs(const std::string& path, const UserCallback& on_user, const UserErrorCallback& on_error);

}  // namespace upm
