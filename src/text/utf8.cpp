#include "upm/text/utf8.h"

namespace upm::text {
namespace {

// Length of the longest valid prefix of a sequence starting at `pos`
// (0 when the lead byte is invalid), and whether it is complete. Follows
// the Unicode "maximal subpart" rule (Table 3-7 of the standard).
struct SequenceCheck {
  std::size_t valid_prefix = 0;
  bool complete = false;
};

SequenceCheck check_sequence(std::string_view text, std::size_t pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  if (lead < 0x80) return {1, true};
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return {0, false};
  }
  std::size_t got = 1;
  while (got < need && pos + got < text.size()) {
    unsigned char b = byte(pos + got);
    unsigned char min = got == 1 ? lo : 0x80, max = got == 1 ? hi : 0xBF;
    if (b < min || b > max) break;
    ++got;
  }
  return {got, got == need};
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    // ASCII fast path: most text is mostly ASCII.
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    SequenceCheck check = check_sequence(text, pos);
    if (!check.complete) return false;
    pos += check.valid_prefix;
  }
  return true;
}

std::string utf8_lossy(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    SequenceCheck check = check_sequence(text, pos);
    if (check.complete) {
      out.append(text.substr(pos, check.valid_prefix));
      pos += check.valid_prefix;
    } else {
      out += "\xEF\xBF\xBD";
      pos += check.valid_prefix == 0 ? 1 : check.valid_prefix;
    }
  }
  return out;
}

std::string_view repaired_utf8(std::string_view text, std::string& storage) {
  if (is_valid_utf8(text)) return text;
  storage = utf8_lossy(text);
  return storage;
}

char32_t next_code_point(std::string_view text, std::size_t& pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
  char32_t cp = lead & (0x3F >> extra);
  for (int i = 1; i <= extra && pos + i < text.size(); ++i) cp = (cp << 6) | (byte(pos + i) & 0x3F);
  pos += extra + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace upm::text
