#pragma once
// The pre-tokenizer's regex split (HF `Split` with a Regex pattern), on
// PCRE2 in UTF + UCP mode so that \p{L}, \p{N}, \s and (?!\S) mean what
// they mean in HF's Oniguruma. JIT-compiled when the platform allows.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace upm::text {

class RegexSplitter {
 public:
  // Throws InputError (naming `context`) when PCRE2 rejects the pattern.
  RegexSplitter(const std::string& pattern, const std::string& context);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Splits valid UTF-8 `text` into matches and the gaps between them, in
  // order ("Isolated"). With `drop_matches` the matches are dropped
  // ("Removed"). Appends views into `text` to `pieces`.
  void split(std::string_view text, std::vector<std::string_view>& pieces, bool drop_matches = false) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace upm::text
