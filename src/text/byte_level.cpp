#include "byte_level.h"

#include "upm/text/utf8.h"

namespace upm::text {

const ByteLevelAlphabet& ByteLevelAlphabet::get() {
  static const ByteLevelAlphabet alphabet;
  return alphabet;
}

ByteLevelAlphabet::ByteLevelAlphabet() {
  code_point_bytes_.fill(-1);
  int next_extra = 0;
  for (int byte = 0; byte < 256; ++byte) {
    bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174);
    char32_t cp = printable ? static_cast<char32_t>(byte) : static_cast<char32_t>(256 + next_extra++);
    append_utf8(byte_chars_[byte], cp);
    code_point_bytes_[cp] = byte;
  }
}

std::string ByteLevelAlphabet::encode(std::string_view bytes) const {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += byte_chars_[b];
  return out;
}

std::optional<std::string> ByteLevelAlphabet::decode(std::string_view chars) const {
  std::string out;
  out.reserve(chars.size());
  std::size_t pos = 0;
  while (pos < chars.size()) {
    char32_t cp = next_code_point(chars, pos);
    if (cp >= code_point_bytes_.size() || code_point_bytes_[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(code_point_bytes_[cp]));
  }
  return out;
}

}  // namespace upm::text
