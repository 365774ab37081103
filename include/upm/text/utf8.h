#pragma once
// UTF-8 validity and repair, shared by the tokenizers and the text tools.
//
// Invalid input is repaired the way Rust's String::from_utf8_lossy and the
// WHATWG decoder (node's Buffer.toString) do it: each maximal invalid
// subpart becomes one U+FFFD. Hugging Face tokenizers only ever see valid
// text (a Rust &str), so repairing first gives the same ids as HF does for
// the string a JS/Python caller would have decoded from the same bytes.

#include <string>
#include <string_view>

namespace upm::text {

// True when `text` is well-formed UTF-8 (no surrogates, no overlongs, <= U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every maximal invalid subpart replaced by U+FFFD (EF BF BD).
std::string utf8_lossy(std::string_view text);

// `text` itself when valid, else its repair held in `storage`.
std::string_view repaired_utf8(std::string_view text, std::string& storage);

// Decodes the code point at `text[pos]` of valid UTF-8 and advances `pos`.
char32_t next_code_point(std::string_view text, std::size_t& pos);

// Appends the UTF-8 encoding of `cp` to `out`.
void append_utf8(std::string& out, char32_t cp);

}  // namespace upm::text
