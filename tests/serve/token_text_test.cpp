// Token texts in logprobs answers keep their leading space with both tokenizer backends.

#include "upm/serve/token_text.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "upm/text/tokenizer.h"
#include "test_paths.h"

namespace upm::test {
namespace {

// Every token's text, concatenated, is the decoded text of the sequence.
void expect_texts_concatenate(const Tokenizer& tokenizer, const std::string& text) {
  std::vector<TokenId> ids = tokenizer.encode(text, false);
  std::string joined;
  for (TokenId id : ids) joined += serve::token_text(tokenizer, id);
  std::string decoded = tokenizer.decode(ids, false);
  // SentencePiece's dummy prefix: the first word's space is the tokenizer's, not the text's.
  if (!joined.empty() && joined[0] == ' ' && (decoded.empty() || decoded[0] != ' ')) joined.erase(0, 1);
  EXPECT_EQ(joined, decoded);
}

TEST(TokenText, SentencePieceWordStartsKeepTheirSpace) {
  auto tokenizer = load_tokenizer(upm::test::test_data_dir() + "/text/tiny_spm/tokenizer.model");
  std::vector<TokenId> ids = tokenizer->encode("hello world again", false);
  ASSERT_GE(ids.size(), 2u);
  int spaced = 0;
  for (TokenId id : ids) {
    const std::string piece = tokenizer->id_to_token(id);
    const std::string text = serve::token_text(*tokenizer, id);
    if (piece.rfind("\xE2\x96\x81", 0) == 0) {
      EXPECT_EQ(text.substr(0, 1), " ") << piece;
      ++spaced;
    }
  }
  EXPECT_GE(spaced, 2);  // "world" and "again" start words
  expect_texts_concatenate(*tokenizer, "hello world again");
}

TEST(TokenText, ByteLevelTokensAreTheirBytes) {
  auto tokenizer = load_tokenizer(upm::test::test_data_dir() + "/text/tiny_bpe/tokenizer.json");
  expect_texts_concatenate(*tokenizer, "Item A or Item B? caf\xC3\xA9 <|im_end|>");
  const auto id = tokenizer->token_to_id("<|im_end|>");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(serve::token_text(*tokenizer, *id), "<|im_end|>");
}

}  // namespace
}  // namespace upm::test
