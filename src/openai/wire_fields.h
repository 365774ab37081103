#pragma once
// Strict reading of JSON fields for the wire format (private to openai/).
// Every error is an InputError naming the document and the field path:
//   "request body: messages[2].role: expected one of system|user|assistant".
// A JSON null counts as absent, as OpenAI's own SDKs send unset fields as null.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace upm::openai::wire {

// A place in a document: `source` names it, `path` is the dotted field path.
struct Field {
  const nlohmann::json* value;  // null when absent (or JSON null)
  std::string source;
  std::string path;

  bool present() const { return value != nullptr; }
  [[noreturn]] void fail(const std::string& problem) const;
};

// The member `key` of `object` (which must be a JSON object: checked by object_at).
Field member(const nlohmann::json& object, const std::string& key, const std::string& source,
             const std::string& parent);
// The document itself (path "" -> errors name only the source).
Field root(const nlohmann::json& document, const std::string& source);
// Element i of an array field.
Field element(const Field& array, size_t i);

// Checked reads. `required` fields fail with "missing" when absent; optional
// ones return `fallback`.
const nlohmann::json& object_at(const Field& f);
const nlohmann::json& array_at(const Field& f);
std::string string_at(const Field& f);
bool bool_at(const Field& f, bool fallback);
double number_at(const Field& f, double fallback, double min, double max);
int64_t integer_at(const Field& f, int64_t fallback, int64_t min, int64_t max);
std::string one_of(const Field& f, const std::vector<std::string>& allowed);

}  // namespace upm::openai::wire
