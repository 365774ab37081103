#pragma once
// Added tokens (specials such as <|im_start|> and user-added words) are cut
// out of the text before any normalization or pre-tokenization, exactly as
// HF's AddedVocabulary does: leftmost-longest, non-overlapping matches,
// with the token's lstrip / rstrip / single_word flags.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "upm/text/tokenizer.h"

namespace upm::text {

struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool special = false;
  bool lstrip = false;       // swallow whitespace on the left
  bool rstrip = false;       // swallow whitespace on the right
  bool normalized = false;   // matched on normalized text (second pass)
  bool single_word = false;  // only when not inside a word
};

// A piece of text: either plain text to tokenize or one added token.
struct TextSegment {
  std::string_view text;
  TokenId token = -1;  // >= 0: this segment is that added token
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }
  // Appends the segments of `text` to `out` (plain segments are never empty).
  void split(std::string_view text, std::vector<TextSegment>& out) const;

 private:
  std::vector<AddedToken> tokens_;
  // Candidate tokens by first byte, longest first (leftmost-longest).
  std::array<std::vector<int>, 256> by_first_byte_;
};

// Unicode White_Space (Rust's char::is_whitespace).
bool is_unicode_whitespace(char32_t cp);

}  // namespace upm::text
