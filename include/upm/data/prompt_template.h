#pragma once
// A prompt template: plain text with {{placeholders}} (letters, digits, '_';
// spaces inside the braces allowed), kept in files under configs/prompts/ so
// that prompt research needs no rebuild. A single trailing newline of the file
// is dropped, so the file decides exactly how the prompt ends.

#include <map>
#include <set>
#include <string>
#include <vector>

namespace upm::data {

class PromptTemplate {
 public:
  // Reads and parses a template file; InputError naming the file and line on
  // an unterminated or malformed placeholder.
  static PromptTemplate load(const std::string& path);
  // `source` names the template in errors.
  static PromptTemplate parse(const std::string& text, const std::string& source);

  // Fails (InputError naming the template) if it uses a placeholder outside
  // `known` or lacks one of `required`.
  void check(const std::set<std::string>& known, const std::set<std::string>& required) const;

  // Substitutes every placeholder; one without a value is an InputError.
  std::string render(const std::map<std::string, std::string>& values) const;

  const std::set<std::string>& placeholders() const { return names_; }
  const std::string& source() const { return source_; }

 private:
  struct Piece {
    bool is_placeholder = false;
    std::string text;  // literal text, or the placeholder's name
    std::size_t line = 0;
  };
  std::vector<Piece> pieces_;
  std::set<std::string> names_;
  std::string source_;
};

}  // namespace upm::data
