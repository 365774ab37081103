#pragma once
// Private helper of the schema parsers: typed access to the fields of one
// JSON object that records problems (with full field paths such as
// "events[3].value") instead of throwing, so that one pass reports every
// problem of a record.

#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "upm/core/json_limits.h"
#include "upm/data/record_reader.h"

namespace upm::data::detail {

class FieldReader {
 public:
  FieldReader(const JsonlRecord& record, const nlohmann::json& object, std::string prefix, Problems& problems)
      : record_(record), object_(object), prefix_(std::move(prefix)), problems_(problems) {}

  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  void problem(const std::string& key, const std::string& text) {
    problems_.push_back({record_.where(path(key)), text});
  }
  bool has(const char* key) const {
    auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
  }
  const nlohmann::json& at(const char* key) const { return object_.at(key); }

  // A string field; `non_empty` rejects "" (and all-blank text).
  std::optional<std::string> string(const char* key, bool required, bool non_empty = true) {
    if (!present(key, required)) return std::nullopt;
    const auto& v = object_.at(key);
    if (!v.is_string()) {
      problem(key, std::string("expected a string, got ") + v.type_name());
      return std::nullopt;
    }
    std::string s = v.get<std::string>();
    if (non_empty && s.find_first_not_of(" \t\r\n") == std::string::npos) {
      problem(key, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<double> number(const char* key, bool required) {
    if (!present(key, required)) return std::nullopt;
    const auto& v = object_.at(key);
    if (!v.is_number()) {
      problem(key, std::string("expected a number, got ") + json_excerpt(v));
      return std::nullopt;
    }
    return v.get<double>();
  }

  std::optional<int64_t> integer(const char* key, bool required) {
    if (!present(key, required)) return std::nullopt;
    const auto& v = object_.at(key);
    if (!v.is_number_integer()) {
      problem(key, std::string("expected an integer, got ") + json_excerpt(v));
      return std::nullopt;
    }
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) {
      problem(key, "integer out of range: " + json_excerpt(v));
      return std::nullopt;
    }
    return v.get<int64_t>();
  }

  // Marks `key` handled; false (and a problem if required) when it is absent.
  bool present(const char* key, bool required) {
    known_.insert(key);
    if (has(key)) return true;
    if (required) problem(key, "required field is missing");
    return false;
  }

  // Marks a key as handled by the caller (so it is not kept as unknown).
  void mark_known(const char* key) { known_.insert(key); }

  // Every key that no accessor named: kept verbatim for the round trip.
  nlohmann::json unknown_fields() const {
    nlohmann::json extra = nlohmann::json::object();
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!known_.count(it.key())) extra[it.key()] = it.value();
    }
    return extra;
  }

 private:
  const JsonlRecord& record_;
  const nlohmann::json& object_;
  std::string prefix_;
  Problems& problems_;
  std::set<std::string> known_;
};

// A number as JSON: integral values stay integers so that 5 round-trips as 5.
inline nlohmann::json number_json(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v > -9e15 && v < 9e15) {
    return static_cast<int64_t>(v);
  }
  return v;
}

}  // namespace upm::data::detail
