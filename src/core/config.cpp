#include "upm/core/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "upm/core/json_limits.h"

namespace upm {

namespace {

// Levenshtein distance, for "did you mean" hints on unknown keys.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_key(const std::string& key, const std::set<std::string>& known) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& candidate : known) {
    size_t d = edit_distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best_distance <= std::max<size_t>(2, key.size() / 3) ? best : "";
}

// 1-based line and column of a byte offset, for JSON syntax errors.
std::pair<size_t, size_t> line_column(const std::string& text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

ConfigOverrides parse_overrides(const std::vector<std::string>& assignments) {
  ConfigOverrides out;
  for (const auto& assignment : assignments) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InputError(Location{"--set", 0, ""},
                       "expected key=value (e.g. optimizer.lr=1e-5), got \"" + assignment + "\"");
    }
    out.values[assignment.substr(0, eq)] = assignment.substr(eq + 1);
  }
  return out;
}

ConfigIO::ConfigIO(const nlohmann::json* input, std::string source, ConfigOverrides* overrides, std::string path,
                   std::vector<std::string>* problems)
    : mode_(Mode::read),
      input_(input),
      source_(std::move(source)),
      overrides_(overrides),
      path_(std::move(path)),
      problems_(problems) {}

ConfigIO::ConfigIO(nlohmann::json* output, std::string path)
    : mode_(Mode::write), output_(output), path_(std::move(path)) {}

std::string ConfigIO::path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

void ConfigIO::fail(const std::string& key, const std::string& problem) const {
  throw InputError(Location{source_, 0, path_of(key)}, problem);
}

void ConfigIO::report(const std::string& key, const std::string& problem) const {
  report(InputError(Location{source_, 0, path_of(key)}, problem));
}

void ConfigIO::report(const InputError& error) const {
  if (!problems_) throw error;
  problems_->push_back(error.what());
}

void throw_config_problems(const std::string& source, const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  if (problems.size() == 1) throw InputError(problems[0]);
  std::string message = std::to_string(problems.size()) + " problems in " + source + ":";
  for (const auto& p : problems) message += "\n  " + p;
  throw InputError(message);
}

bool ConfigIO::was_given(const std::string& key) const {
  if (overrides_ && overrides_->used.count(path_of(key))) return true;
  return input_ && input_->contains(key);
}

const nlohmann::json* ConfigIO::child_json(const std::string& key) {
  if (!input_ || !input_->contains(key)) return nullptr;
  const nlohmann::json& child = (*input_)[key];
  if (!child.is_object()) {
    report(key, std::string("expected an object, got ") + child.type_name());
    return nullptr;
  }
  return &child;
}

void ConfigIO::finish() {
  if (!reading() || !input_) return;
  for (auto it = input_->begin(); it != input_->end(); ++it) {
    const std::string& key = it.key();
    // Keys starting with "//" are comments: JSON has no other way to document a knob.
    if (key.rfind("//", 0) == 0 || declared_.count(key)) continue;
    std::string hint = closest_key(key, declared_);
    report(key, hint.empty() ? "unknown key" : "unknown key (did you mean \"" + hint + "\"?)");
  }
}

namespace config_detail {

void read_json(const nlohmann::json& j, bool& out) {
  if (!j.is_boolean()) throw std::string("expected true or false, got ") + j.type_name();
  out = j.get<bool>();
}

void read_json(const nlohmann::json& j, int64_t& out) {
  if (j.is_number_integer()) {
    if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      throw std::string("integer out of range");
    }
    out = j.get<int64_t>();
    return;
  }
  // 1e3 or 4.0 are accepted when they are exact integers.
  if (j.is_number_float()) {
    double v = j.get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
      out = static_cast<int64_t>(v);
      return;
    }
    throw std::string("expected an integer, got ") + json_excerpt(j);
  }
  throw std::string("expected an integer, got ") + j.type_name();
}

void read_json(const nlohmann::json& j, int& out) {
  int64_t wide = 0;
  read_json(j, wide);
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    throw std::string("integer out of range: ") + std::to_string(wide);
  }
  out = static_cast<int>(wide);
}

void read_json(const nlohmann::json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return;
  }
  int64_t wide = 0;
  read_json(j, wide);
  if (wide < 0) throw std::string("must be a non-negative integer, got ") + std::to_string(wide);
  out = static_cast<uint64_t>(wide);
}

void read_json(const nlohmann::json& j, double& out) {
  if (!j.is_number()) throw std::string("expected a number, got ") + j.type_name();
  out = j.get<double>();
}

void read_json(const nlohmann::json& j, float& out) {
  double wide = 0;
  read_json(j, wide);
  out = static_cast<float>(wide);
}

void read_json(const nlohmann::json& j, std::string& out) {
  if (!j.is_string()) throw std::string("expected a string, got ") + j.type_name();
  out = j.get<std::string>();
}

void read_json(const nlohmann::json& j, nlohmann::json& out) { out = j; }

nlohmann::json parse_override_text(const std::string& text, bool wants_string) {
  if (wants_string) {
    // A quoted JSON string is unquoted; anything else is taken literally.
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
      auto parsed = nlohmann::json::parse(text, nullptr, false);
      if (!parsed.is_discarded()) return parsed;
    }
    return text;
  }
  if (auto deep = check_json_depth(text, max_json_depth())) throw deep->problem;
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;  // reported by read_json as a type error
  return parsed;
}

}  // namespace config_detail

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  if (auto deep = check_json_depth(text, max_json_depth())) {
    auto [line, column] = line_column(text, deep->offset);
    throw InputError(Location{source, line, deep->field}, "at column " + std::to_string(column) + ": " + deep->problem);
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, column] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at ...: ".
    auto colon = what.rfind(": ");
    std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
    throw InputError(Location{source, line, ""}, "invalid JSON at column " + std::to_string(column) + ": " + reason);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond double's range (1e99999): nlohmann names the literal, not where it is.
    std::string what = e.what();
    const auto bracket = what.find("] ");
    throw InputError(
        Location{source, 0, ""},
        "invalid JSON: " + text_excerpt(bracket == std::string::npos ? what : what.substr(bracket + 2), 120));
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Location{path, 0, ""}, "cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_json_text(buffer.str(), path);
}

}  // namespace upm
