// UTF-8 repair must match what a JS caller of HF tokenizers sees: node's
// Buffer.toString (WHATWG decoder, = Rust's from_utf8_lossy), one U+FFFD per
// maximal invalid subpart. The expected strings are those node prints for
// the same bytes (checked by hand with Buffer.from(hex,'hex').toString()).

#include <gtest/gtest.h>

#include "upm/text/utf8.h"

namespace upm::text {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, ValidTextIsLeftAlone) {
  for (std::string text : {std::string(""), std::string("plain"), std::string("\xE4\xBD\xA0\xE5\xA5\xBD"),
                           std::string("\xF0\x9F\x98\x80"), std::string("nul\0byte", 8)}) {
    EXPECT_TRUE(is_valid_utf8(text));
    EXPECT_EQ(utf8_lossy(text), text);
  }
}

TEST(Utf8, MaximalSubpartsBecomeOneReplacementEach) {
  EXPECT_EQ(utf8_lossy("a\x80"
                       "b"),
            "a" + kFffd + "b");                                              // stray continuation
  EXPECT_EQ(utf8_lossy("\xE4\xBD"), kFffd);                                  // truncated 3-byte: one
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98 q"), kFffd + " q");                     // truncated 4-byte: one
  EXPECT_EQ(utf8_lossy("\xC0\xAF"), kFffd + kFffd);                          // overlong lead: each byte
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);              // surrogate: each byte
  EXPECT_EQ(utf8_lossy("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  EXPECT_EQ(utf8_lossy("\xE2\x82 a\xE2\x82\xAC"), kFffd + " a\xE2\x82\xAC");
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\xE4\xBD"));
}

TEST(Utf8, CodePointsRoundTrip) {
  for (char32_t cp : {U'a', U'\u00e9', U'\u4f60', U'\U0001F600', U'\U0010FFFF'}) {
    std::string encoded;
    append_utf8(encoded, cp);
    std::size_t pos = 0;
    EXPECT_EQ(next_code_point(encoded, pos), cp);
    EXPECT_EQ(pos, encoded.size());
  }
}

}  // namespace
}  // namespace upm::text
