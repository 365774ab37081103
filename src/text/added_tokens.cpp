#include "added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "upm/text/utf8.h"

namespace upm::text {

bool is_unicode_whitespace(char32_t cp) {
  return (cp >= 9 && cp <= 13) || cp == 32 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

namespace {

bool is_word_char(char32_t cp) {
  if (cp == '_') return true;
  auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
         (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
}

// Start of the code point that ends at `end` (exclusive).
std::size_t previous_code_point_start(std::string_view text, std::size_t end) {
  std::size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

bool word_char_before(std::string_view text, std::size_t pos) {
  if (pos == 0) return false;
  std::size_t start = previous_code_point_start(text, pos);
  return is_word_char(next_code_point(text, start));
}

bool word_char_at(std::string_view text, std::size_t pos) {
  return pos < text.size() && is_word_char(next_code_point(text, pos));
}

// Extends a match to the left over whitespace, not before `floor`.
std::size_t strip_left(std::string_view text, std::size_t start, std::size_t floor) {
  while (start > floor) {
    std::size_t prev = previous_code_point_start(text, start);
    std::size_t probe = prev;
    if (!is_unicode_whitespace(next_code_point(text, probe))) break;
    start = prev;
  }
  return start;
}

std::size_t strip_right(std::string_view text, std::size_t end) {
  while (end < text.size()) {
    std::size_t next = end;
    if (!is_unicode_whitespace(next_code_point(text, next))) break;
    end = next;
  }
  return end;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (int i = 0; i < static_cast<int>(tokens_.size()); ++i) {
    if (tokens_[i].content.empty()) continue;
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(i);
  }
  for (auto& candidates : by_first_byte_) {
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](int a, int b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
  }
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSegment>& out) const {
  std::size_t emitted = 0;  // end of the last segment pushed
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto& candidates = by_first_byte_[static_cast<unsigned char>(text[pos])];
    const AddedToken* match = nullptr;
    for (int index : candidates) {
      const std::string& content = tokens_[index].content;
      if (text.compare(pos, content.size(), content) == 0) {
        match = &tokens_[index];
        break;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    std::size_t start = pos, end = pos + match->content.size();
    pos = end;  // matches never overlap, even a rejected one (as in HF)
    if (match->single_word && (word_char_before(text, start) || word_char_at(text, end))) continue;
    if (match->lstrip) start = strip_left(text, start, emitted);
    if (match->rstrip) end = strip_right(text, end);
    if (start > emitted) out.push_back({text.substr(emitted, start - emitted), -1});
    out.push_back({text.substr(start, end - start), match->id});
    emitted = pos = end;
  }
  if (emitted < text.size()) out.push_back({text.substr(emitted), -1});
}

}  // namespace upm::text
