#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex_splitter.h"

#include <pcre2.h>

#include "upm/core/error.h"

namespace upm::text {

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

// One match-data block per thread and pattern size: allocation per call
// would dominate short segments.
struct MatchData {
  pcre2_match_data* data = nullptr;
  explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
};

}  // namespace

RegexSplitter::RegexSplitter(const std::string& pattern, const std::string& context)
    : compiled_(std::make_unique<Compiled>()) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                  &error_code, &error_offset, nullptr);
  if (!compiled_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    throw InputError(
        Location{context, 0, "pre_tokenizer.pattern"},
        "regex rejected at offset " + std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message));
  }
  // Without JIT pcre2_match interprets; still correct, only slower.
  pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE);
}

RegexSplitter::~RegexSplitter() = default;

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& pieces, bool drop_matches) const {
  MatchData match(compiled_->code);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t offset = 0, gap_start = 0;
  while (offset <= text.size()) {
    // The caller guarantees valid UTF-8, so PCRE2's own check is skipped.
    int rc = pcre2_match(compiled_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, match.data, nullptr);
    if (rc < 0) {
      if (rc == PCRE2_ERROR_NOMATCH) break;
      throw Error("pre-tokenizer regex failed with PCRE2 error " + std::to_string(rc));
    }
    PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    std::size_t start = ovector[0], end = ovector[1];
    if (end == start) {
      // An empty match splits nothing (HF skips it); step one code point on.
      offset = end + 1;
      while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) ++offset;
      continue;
    }
    if (start > gap_start) pieces.push_back(text.substr(gap_start, start - gap_start));
    if (!drop_matches) pieces.push_back(text.substr(start, end - start));
    gap_start = offset = end;
  }
  if (gap_start < text.size()) pieces.push_back(text.substr(gap_start));
}

}  // namespace upm::text
