#pragma once
// Config structs loaded from JSON. A config struct lists its knobs once, in a
// `describe` function, and that one list serves loading (types checked, ranges
// validated, unknown keys rejected by name), `--set a.b=c` overrides and
// dumping the resolved config:
//
//   struct OptimizerConfig { double lr = 1e-5; int warmup_steps = 0; };
//   inline void describe(upm::ConfigIO& io, OptimizerConfig& c) {
//     io.field("lr", c.lr).greater_than(0.0);     // peak learning rate
//     io.field("warmup_steps", c.warmup_steps).at_least(0);
//   }
//   struct TrainConfig { std::string model; OptimizerConfig optimizer; };
//   inline void describe(upm::ConfigIO& io, TrainConfig& c) {
//     io.field("model", c.model).required();
//     io.section("optimizer", c.optimizer);
//   }
//   auto cfg = upm::load_config<TrainConfig>("train.json", {"optimizer.lr=3e-4"});
//
// Loading reports every problem of a config at once (missing required keys,
// unknown keys with a "did you mean" hint, wrong types, values out of range),
// one "file: path: problem" line each, in a single InputError (exit 2).

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/error.h"
#include "upm/core/json_limits.h"

namespace upm {

// Overrides from the command line, keyed by dotted path ("optimizer.lr").
// Values stay raw text until the field they name says what type it wants.
struct ConfigOverrides {
  std::map<std::string, std::string> values;
  std::set<std::string> used;
};

// Parses "a.b.c=value" strings; a malformed one is an InputError.
ConfigOverrides parse_overrides(const std::vector<std::string>& assignments);

template <class T>
class FieldCheck;

// Walks one JSON object in one of two directions: reading (JSON -> struct,
// validating) or writing (struct -> JSON, for the resolved config).
class ConfigIO {
 public:
  enum class Mode { read, write };

  // Reading: `source` names the file for error messages. With `problems`,
  // field problems are collected there instead of thrown one at a time.
  ConfigIO(const nlohmann::json* input, std::string source, ConfigOverrides* overrides, std::string path = "",
           std::vector<std::string>* problems = nullptr);
  // Writing into `output`.
  explicit ConfigIO(nlohmann::json* output, std::string path = "");

  Mode mode() const { return mode_; }
  bool reading() const { return mode_ == Mode::read; }

  // Declares a knob. The struct member's current value is its default.
  template <class T>
  FieldCheck<T> field(const char* key, T& value);

  // Declares a nested config struct; `describe(ConfigIO&, S&)` must exist.
  template <class S>
  void section(const char* key, S& value);

  // Declares a list of nested config structs (JSON array of objects).
  template <class S>
  void section_list(const char* key, std::vector<S>& values);

  // Reading: rejects any key of this object that no field() named.
  void finish();

  // Dotted path of `key` inside this object ("optimizer.lr").
  std::string path_of(const std::string& key) const;
  // Throws InputError naming the source and the dotted path.
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  // Like fail(), but collected (and loading goes on) when problems are collected.
  void report(const std::string& key, const std::string& problem) const;
  void report(const InputError& error) const;

  // Was `key` given in the file or by an override (reading only)?
  bool was_given(const std::string& key) const;

 private:
  template <class T>
  void read_value(const std::string& key, T& value);
  // describe(io, value); a cross-field check's fail() ends only this section
  // when problems are collected.
  template <class S>
  void describe_collecting(ConfigIO& io, S& value) {
    try {
      describe(io, value);
    } catch (const InputError& e) {
      if (!problems_) throw;
      problems_->push_back(e.what());
    }
  }
  const nlohmann::json* child_json(const std::string& key);

  Mode mode_;
  const nlohmann::json* input_ = nullptr;
  nlohmann::json* output_ = nullptr;
  std::string source_;
  ConfigOverrides* overrides_ = nullptr;
  std::string path_;
  std::vector<std::string>* problems_ = nullptr;
  std::set<std::string> declared_;
};

// Fluent validation of one field; checks run only when reading.
template <class T>
class FieldCheck {
 public:
  FieldCheck(ConfigIO& io, std::string key, T& value, bool given)
      : io_(io), key_(std::move(key)), value_(value), given_(given) {}

  FieldCheck& required() {
    if (io_.reading() && !given_) io_.report(key_, "required but missing");
    return *this;
  }
  FieldCheck& at_least(T low) {
    if (io_.reading() && value_ < low) io_.report(key_, "must be >= " + show(low) + ", got " + show(value_));
    return *this;
  }
  FieldCheck& at_most(T high) {
    if (io_.reading() && value_ > high) io_.report(key_, "must be <= " + show(high) + ", got " + show(value_));
    return *this;
  }
  FieldCheck& greater_than(T low) {
    if (io_.reading() && !(value_ > low)) io_.report(key_, "must be > " + show(low) + ", got " + show(value_));
    return *this;
  }
  FieldCheck& one_of(std::initializer_list<const char*> choices) {
    if (!io_.reading()) return *this;
    std::string list;
    for (const char* choice : choices) {
      if (value_ == choice) return *this;
      list += std::string(list.empty() ? "" : ", ") + choice;
    }
    io_.report(key_, "must be one of {" + list + "}, got \"" + show(value_) + "\"");
    return *this;
  }

 private:
  static std::string show(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      return v;
    } else {
      return nlohmann::json(v).dump();
    }
  }
  ConfigIO& io_;
  std::string key_;
  T& value_;
  bool given_;
};

// Typed reading of one JSON value; throws a std::string problem on mismatch.
namespace config_detail {
void read_json(const nlohmann::json& j, bool& out);
void read_json(const nlohmann::json& j, int& out);
void read_json(const nlohmann::json& j, int64_t& out);
void read_json(const nlohmann::json& j, uint64_t& out);
void read_json(const nlohmann::json& j, double& out);
void read_json(const nlohmann::json& j, float& out);
void read_json(const nlohmann::json& j, std::string& out);
void read_json(const nlohmann::json& j, nlohmann::json& out);
template <class T>
void read_json(const nlohmann::json& j, std::vector<T>& out) {
  if (!j.is_array()) throw std::string("expected an array, got ") + j.type_name();
  std::vector<T> values(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    try {
      read_json(j[i], values[i]);
    } catch (const std::string& problem) {
      throw "element " + std::to_string(i) + ": " + problem;
    }
  }
  out = std::move(values);
}
template <class T>
void read_json(const nlohmann::json& j, std::map<std::string, T>& out) {
  if (!j.is_object()) throw std::string("expected an object, got ") + j.type_name();
  std::map<std::string, T> values;
  for (auto it = j.begin(); it != j.end(); ++it) {
    try {
      read_json(it.value(), values[it.key()]);
    } catch (const std::string& problem) {
      throw "key \"" + it.key() + "\": " + problem;
    }
  }
  out = std::move(values);
}
// Override text -> JSON for a field of type T ("3" for an int, "abc" for a string);
// throws a std::string problem when it nests deeper than max_json_depth().
nlohmann::json parse_override_text(const std::string& text, bool wants_string);
}  // namespace config_detail

template <class T>
void ConfigIO::read_value(const std::string& key, T& value) {
  const std::string full = path_of(key);
  if (overrides_) {
    auto it = overrides_->values.find(full);
    if (it != overrides_->values.end()) {
      overrides_->used.insert(full);
      try {
        nlohmann::json parsed = config_detail::parse_override_text(it->second, std::is_same_v<T, std::string>);
        config_detail::read_json(parsed, value);
      } catch (const std::string& problem) {
        report(InputError(Location{"--set", 0, full}, problem + " (value \"" + text_excerpt(it->second, 80) + "\")"));
      }
      return;
    }
  }
  if (input_ && input_->contains(key)) {
    try {
      config_detail::read_json((*input_)[key], value);
    } catch (const std::string& problem) {
      report(key, problem);
    }
  }
}

template <class T>
FieldCheck<T> ConfigIO::field(const char* key, T& value) {
  declared_.insert(key);
  if (reading()) {
    read_value(key, value);
    return FieldCheck<T>(*this, key, value, was_given(key));
  }
  (*output_)[key] = value;
  return FieldCheck<T>(*this, key, value, true);
}

template <class S>
void ConfigIO::section(const char* key, S& value) {
  declared_.insert(key);
  if (reading()) {
    const nlohmann::json* child = child_json(key);
    ConfigIO sub(child, source_, overrides_, path_of(key), problems_);
    describe_collecting(sub, value);
    sub.finish();
  } else {
    nlohmann::json child = nlohmann::json::object();
    ConfigIO sub(&child, path_of(key));
    describe(sub, value);
    (*output_)[key] = std::move(child);
  }
}

template <class S>
void ConfigIO::section_list(const char* key, std::vector<S>& values) {
  declared_.insert(key);
  if (reading()) {
    if (!input_ || !input_->contains(key)) return;
    const nlohmann::json& list = (*input_)[key];
    if (!list.is_array()) {
      report(key, std::string("expected an array, got ") + list.type_name());
      return;
    }
    values.assign(list.size(), S{});
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string item_path = path_of(key) + "[" + std::to_string(i) + "]";
      if (!list[i].is_object()) {
        report(
            InputError(Location{source_, 0, item_path}, std::string("expected an object, got ") + list[i].type_name()));
        continue;
      }
      ConfigIO sub(&list[i], source_, nullptr, item_path, problems_);
      describe_collecting(sub, values[i]);
      sub.finish();
    }
  } else {
    nlohmann::json list = nlohmann::json::array();
    for (auto& item : values) {
      nlohmann::json child = nlohmann::json::object();
      ConfigIO sub(&child, path_of(key));
      describe(sub, item);
      list.push_back(std::move(child));
    }
    (*output_)[key] = std::move(list);
  }
}

// Parses JSON text; syntax errors name `source` and the line and column.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);
// Reads and parses a JSON file (errors name the file, line and column).
nlohmann::json read_json_file(const std::string& path);

// Nothing when `problems` is empty; the one problem; or "N problems in SOURCE:"
// and one indented line each (InputError).
void throw_config_problems(const std::string& source, const std::vector<std::string>& problems);

// Reads a config struct from a JSON object plus overrides. Any override that
// names no field is an error ("unknown key").
template <class Config>
Config config_from_json(const nlohmann::json& json, const std::string& source,
                        const std::vector<std::string>& overrides = {}) {
  if (!json.is_object()) throw InputError(Location{source, 0, ""}, "config must be a JSON object");
  ConfigOverrides parsed = parse_overrides(overrides);
  Config config{};
  std::vector<std::string> problems;
  ConfigIO io(&json, source, &parsed, "", &problems);
  try {
    describe(io, config);
    io.finish();
  } catch (const InputError& e) {  // a cross-field check that cannot go on
    problems.push_back(e.what());
  }
  for (const auto& [path, value] : parsed.values) {
    if (!parsed.used.count(path)) problems.push_back(format_location(Location{"--set", 0, path}, "unknown key"));
  }
  throw_config_problems(source, problems);
  return config;
}

// Loads a config file (may be empty: all defaults) and applies overrides.
template <class Config>
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {}) {
  nlohmann::json json = path.empty() ? nlohmann::json::object() : read_json_file(path);
  return config_from_json<Config>(json, path.empty() ? "<defaults>" : path, overrides);
}

// The resolved config, every knob included.
template <class Config>
nlohmann::json config_to_json(const Config& config) {
  nlohmann::json out = nlohmann::json::object();
  Config copy = config;
  ConfigIO io(&out);
  describe(io, copy);
  return out;
}

}  // namespace upm
