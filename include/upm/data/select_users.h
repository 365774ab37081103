#pragma once
// Keeps the lines of any per-user JSONL file (user logs, benchmark tasks,
// profiles) whose "user_id" is in (or, with exclude, not in) a user list, byte
// for byte. The demo uses it to give build-sft and RL the training users and
// the evaluation only the held-out ones (lists from `upm-data split`).

#include <cstdint>
#include <set>
#include <string>

namespace upm::data {

// One user id per line; blank lines and "#" comments skipped.
std::set<std::string> read_user_list(const std::string& path);

struct SelectReport {
  int64_t lines = 0;
  int64_t kept = 0;
};

// Writes `output` atomically. A line that is not an object with a string
// "user_id" is an InputError naming file:line.
SelectReport select_users(const std::string& input, const std::set<std::string>& users, bool exclude,
                          const std::string& output);

}  // namespace upm::data
