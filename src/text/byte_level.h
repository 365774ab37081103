#pragma once
// GPT-2's byte-to-unicode table: every byte gets a printable code point so
// that a byte-level BPE vocabulary is a set of ordinary strings.
// Printable Latin-1 bytes map to themselves; the other 68 bytes map to
// U+0100.. in byte order (HF tokenizers' `bytes_char`).

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace upm::text {

class ByteLevelAlphabet {
 public:
  static const ByteLevelAlphabet& get();

  // UTF-8 string of the code point standing for `byte`.
  const std::string& char_for(unsigned char byte) const { return byte_chars_[byte]; }
  // Byte-level string of raw bytes: one code point per byte.
  std::string encode(std::string_view bytes) const;
  // Raw bytes of a byte-level string; nullopt when a code point is not in
  // the alphabet (HF then keeps the token's own bytes).
  std::optional<std::string> decode(std::string_view chars) const;

 private:
  ByteLevelAlphabet();
  std::array<std::string, 256> byte_chars_;
  std::array<int, 324> code_point_bytes_;  // code point -> byte, -1 if none
};

}  // namespace upm::text
