#pragma once
// The validating read loop shared by every data file (user logs, benchmarks,
// profiles). A record with problems is never silently dropped: in strict mode
// the first one is an InputError (exit 2); otherwise it is skipped, counted,
// reported as "file:line: field: problem" and written to a rejects file
// (JSONL: {"file", "line", "problem", "problems", "raw"}).

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "upm/core/error.h"
#include "upm/core/jsonl.h"

namespace upm::data {

// One thing wrong with one record; `where.field` is a path like "events[3].value".
struct RecordProblem {
  Location where;
  std::string problem;
  std::string message() const { return format_location(where, problem); }
};
using Problems = std::vector<RecordProblem>;

struct ReadOptions {
  bool strict = false;       // the first bad record is an InputError
  std::string rejects_path;  // skip mode: rejected records are written here ("" = not written)
};

struct ReadReport {
  std::size_t records = 0;  // non-blank lines
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  std::vector<std::string> problems;  // every problem, "file:line: field: problem"
};

// Checks one parsed record, appending what is wrong to `problems`; when it
// appends nothing the record counts as accepted (the callback keeps it).
using RecordCheck = std::function<void(const JsonlRecord& record, Problems& problems)>;

// Reads `path` ("-" = stdin) record by record through `check`.
ReadReport read_validated(const std::string& path, const ReadOptions& options, const RecordCheck& check);

// After a lenient read: InputError (exit 2) when `path` had records and not
// one was accepted ("none of the N records is usable; first: ..."); a warning
// when it had none at all.
void require_accepted_records(const ReadReport& report, const std::string& path);

// The problem of a line that is not a JSON object. Invalid UTF-8 (which the
// JSON parser rejects) is named as such, with the byte offset.
std::string describe_unparsable(const JsonlRecord& record);

// Byte offset of the first invalid UTF-8 sequence, or std::string::npos.
std::size_t find_invalid_utf8(const std::string& text);

// Reads records of type T with `parse(record, problems) -> std::optional<T>`,
// rejecting a record whose `key(T)` (e.g. `user id "u1"`) was already seen:
// "file:line: key_field: duplicate user id "u1" (first at line 2)".
template <class T, class Parse, class Key>
std::vector<T> read_unique_records(const std::string& path, const ReadOptions& options, ReadReport* report, Parse parse,
                                   Key key, const char* key_field) {
  std::vector<T> out;
  std::map<std::string, std::size_t> first_line;
  ReadReport local = read_validated(path, options, [&](const JsonlRecord& record, Problems& problems) {
    std::optional<T> value = parse(record, problems);
    if (!value) return;
    std::string name = key(*value);
    auto [it, fresh] = first_line.emplace(name, record.line);
    if (!fresh) {
      problems.push_back(
          {record.where(key_field), "duplicate " + name + " (first at line " + std::to_string(it->second) + ")"});
      return;
    }
    out.push_back(std::move(*value));
  });
  if (report) *report = std::move(local);
  return out;
}

}  // namespace upm::data
