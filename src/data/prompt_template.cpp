#include "upm/data/prompt_template.h"

#include <algorithm>
#include <cctype>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"

namespace upm::data {

namespace {

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

PromptTemplate PromptTemplate::load(const std::string& path) { return parse(read_file(path), path); }

PromptTemplate PromptTemplate::parse(const std::string& raw, const std::string& source) {
  PromptTemplate t;
  t.source_ = source;
  std::string text = raw;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::size_t pos = 0, line = 1;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    std::string literal = text.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
    if (!literal.empty()) t.pieces_.push_back({false, literal, line});
    line += std::count(literal.begin(), literal.end(), '\n');
    if (open == std::string::npos) break;
    std::size_t close = text.find("}}", open + 2);
    std::string name = close == std::string::npos ? "" : trim(text.substr(open + 2, close - open - 2));
    if (close == std::string::npos || name.find('\n') != std::string::npos) {
      throw InputError(Location{source, line, ""}, "unterminated placeholder \"{{\"");
    }
    if (!valid_name(name)) {
      throw InputError(Location{source, line, ""}, "bad placeholder {{" + name + "}} (letters, digits and '_' only)");
    }
    t.pieces_.push_back({true, name, line});
    t.names_.insert(name);
    pos = close + 2;
  }
  return t;
}

void PromptTemplate::check(const std::set<std::string>& known, const std::set<std::string>& required) const {
  for (const auto& piece : pieces_) {
    if (piece.is_placeholder && !known.count(piece.text)) {
      throw InputError(Location{source_, piece.line, ""},
                       "unknown placeholder {{" + piece.text + "}} (known: " + join(known) + ")");
    }
  }
  for (const auto& name : required) {
    if (!names_.count(name)) {
      throw InputError(Location{source_, 0, ""}, "missing placeholder {{" + name + "}} (this prompt needs it)");
    }
  }
}

std::string PromptTemplate::render(const std::map<std::string, std::string>& values) const {
  std::string out;
  for (const auto& piece : pieces_) {
    if (!piece.is_placeholder) {
      out += piece.text;
      continue;
    }
    auto it = values.find(piece.text);
    if (it == values.end()) {
      throw InputError(Location{source_, piece.line, ""}, "no value for placeholder {{" + piece.text + "}}");
    }
    out += it->second;
  }
  return out;
}

}  // namespace upm::data
