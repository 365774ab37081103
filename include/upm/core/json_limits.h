#pragma once
// Untrusted JSON, parsed safely. nlohmann's parser is iterative, but copying,
// comparing and dump()ing a value recurse once per nesting level, so a 200 KB
// line of nested arrays overflows the stack of whatever touches it next. The
// nesting depth is therefore checked on the raw text, before a value is
// built, and error messages quote a bounded excerpt, never a whole value.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace upm {

// Far above any real record or config (the deepest in this project is 4).
inline constexpr int kDefaultMaxJsonDepth = 64;

// The process-wide limit used by JsonlReader, the config loader and the
// server (every tool's --max-json-depth sets it).
int max_json_depth();
void set_max_json_depth(int depth);

// Text nested deeper than the limit: where, and what to say.
struct JsonDepthProblem {
  std::string field;    // path of the too-deep value ("events[0].value"); "" when at the top
  std::size_t offset;   // byte offset where that value starts
  std::string problem;  // "nested deeper than 64 levels (...); value begins: [[[[…"
};

// Scans JSON text (valid or not) without parsing it; std::nullopt when no
// array or object is nested more than `max_depth` levels.
std::optional<JsonDepthProblem> check_json_depth(std::string_view text, int max_depth);

// Parses `text` without exceptions. On failure returns a discarded value and
// sets `*error` ("invalid JSON" or the depth problem) and `*field` (the
// too-deep value's path, or "").
nlohmann::json parse_json_bounded(std::string_view text, int max_depth, std::string* error,
                                  std::string* field = nullptr);

// At most `max_chars` bytes of `text` (cut on a UTF-8 boundary, invalid bytes
// shown as U+FFFD, "…" appended when cut), for quoting input in messages.
std::string text_excerpt(std::string_view text, std::size_t max_chars = 40);

// A value rendered for an error message: compact JSON of at most `max_chars`
// bytes, containers deeper than a few levels shown as [...] / {...}.
std::string json_excerpt(const nlohmann::json& value, std::size_t max_chars = 60);

}  // namespace upm
