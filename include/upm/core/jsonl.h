#pragma once
// JSON Lines: a streaming reader that knows where every record came from, and
// typed field access whose errors read "file:line: field: problem".

#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "upm/core/error.h"

namespace upm {

// One non-blank line of a JSONL file. `error` is set (and `value` null) when
// the line is not a JSON object, or nests deeper than max_json_depth()
// (json_limits.h; such a value is never built); `error_field` then names
// the too-deep value ("events[0].value").
struct JsonlRecord {
  std::string file;
  std::size_t line = 0;
  nlohmann::json value;
  std::string error;
  std::string error_field;
  std::string raw;  // the line as read, without its line ending (for rejects files)

  bool ok() const { return error.empty(); }
  // A bad record's location names its error_field unless `field` is given.
  Location where(const std::string& field = "") const {
    return Location{file, line, field.empty() && !ok() ? error_field : field};
  }
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw InputError(where(field), problem);
  }
};

class JsonlReader {
 public:
  // Throws InputError if the file cannot be opened. "-" reads standard input.
  // `max_depth` < 0: max_json_depth().
  explicit JsonlReader(const std::string& path, int max_depth = -1);
  ~JsonlReader();
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  // Next non-blank line, parsed; std::nullopt at end of file. Malformed lines
  // come back with `error` set so that the caller decides: skip or stop.
  std::optional<JsonlRecord> next();
  // Like next(), but a malformed line is an InputError.
  std::optional<JsonlRecord> next_strict();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool owns_file_ = true;
  std::size_t line_ = 0;
  int max_depth_;
  std::string buffer_;
};

// Typed required / optional fields of a JSON object, with located errors.
// T is one of: std::string, int64_t, int, double, bool, nlohmann::json.
template <class T>
T get_field(const JsonlRecord& record, const nlohmann::json& object, const char* field);
template <class T>
T get_field_or(const JsonlRecord& record, const nlohmann::json& object, const char* field, T fallback);

// Reads a whole JSONL file strictly (first bad line is an InputError).
std::vector<nlohmann::json> read_jsonl_file(const std::string& path);

}  // namespace upm
