// The byte-level BPE tokenizer on small tokenizer.json files of our own
// (tools/reference/make_tiny_bpe.py), with goldens from HF's tokenizers:
// every added-token flag, NFC before normalized added tokens, the GPT-2
// ByteLevel regex with add_prefix_space, TemplateProcessing bos/eos.

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/core/error.h"
#include "upm/text/bpe_tokenizer.h"

namespace upm {
namespace {

TEST(BpeTokenizer, QwenStyleTinyMatchesHuggingFaceOnTheCorpus) {
  test::expect_goldens(test::text_data("tiny_bpe/tokenizer.json"), "tiny_bpe_goldens.jsonl");
}

TEST(BpeTokenizer, AddedTokenFlagsMatchHuggingFace) {
  test::expect_goldens(test::text_data("tiny_bpe/tokenizer.json"), "tiny_bpe_flags_goldens.jsonl");
}

TEST(BpeTokenizer, Gpt2StyleByteLevelRegexAndPrefixSpaceMatchHuggingFace) {
  test::expect_goldens(test::text_data("tiny_gpt2/tokenizer.json"), "tiny_gpt2_flags_goldens.jsonl");
}

TEST(BpeTokenizer, VocabularyAndSpecialLookups) {
  auto tokenizer = BpeTokenizer::from_file(test::text_data("tiny_bpe/tokenizer.json"));
  auto im_end = tokenizer->token_to_id("<|im_end|>");
  ASSERT_TRUE(im_end.has_value());
  EXPECT_EQ(tokenizer->id_to_token(*im_end), "<|im_end|>");
  EXPECT_TRUE(tokenizer->is_special(*im_end));
  EXPECT_FALSE(tokenizer->is_special(*tokenizer->token_to_id("hello world")));
  // "Ġ" stands for the space byte; the tiny vocabulary lists the byte
  // alphabet in GPT-2's order, so it has GPT-2's (and Qwen's) id.
  EXPECT_EQ(tokenizer->token_to_id("\xC4\xA0"), 220);
  EXPECT_FALSE(tokenizer->token_to_id("no such token").has_value());
  EXPECT_EQ(tokenizer->vocab_size(), *tokenizer->token_to_id("<|endoftext|>") + 1);
  EXPECT_EQ(tokenizer->id_to_token(-1), "");
  EXPECT_EQ(tokenizer->id_to_token(1 << 30), "");
  // Ids outside the vocabulary are skipped by decode, as HF does.
  EXPECT_EQ(tokenizer->decode({-5, 1 << 30}), "");
}

TEST(BpeTokenizer, DecodeKeepsBytesOfACutCharacter) {
  auto tokenizer = BpeTokenizer::from_file(test::text_data("tiny_bpe/tokenizer.json"));
  // U+1F9FF is not in the tiny corpus: it encodes to several byte-level
  // tokens, each a piece of one character.
  const std::string nazar = "\xF0\x9F\xA7\xBF";
  auto ids = tokenizer->encode(nazar);
  ASSERT_GT(ids.size(), 1u);
  std::string joined;
  for (TokenId id : ids) joined += tokenizer->decode({id});
  EXPECT_EQ(joined, nazar);
  std::string first = tokenizer->decode({ids[0]});
  EXPECT_FALSE(text::is_valid_utf8(first));
  EXPECT_EQ(text::utf8_lossy(first), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace upm

namespace upm {
namespace {

// encode() is const and shares its merge cache between threads: concurrent
// callers must get what one caller gets.
TEST(BpeTokenizer, ConcurrentEncodingMatchesSequential) {
  auto tokenizer = BpeTokenizer::from_file(test::text_data("tiny_bpe/tokenizer.json"));
  std::vector<std::string> texts;
  for (const auto& line : read_jsonl_file(test::text_data("parity_corpus.jsonl")))
    texts.push_back(test::line_bytes(line));
  std::vector<std::vector<TokenId>> expected;
  for (const auto& text : texts) expected.push_back(tokenizer->encode(text));
  auto fresh = BpeTokenizer::from_file(test::text_data("tiny_bpe/tokenizer.json"));  // cold cache
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t round = 0; round < 3; ++round)
        for (std::size_t i = t; i < texts.size() + t; ++i) {
          std::size_t k = i % texts.size();
          if (fresh->encode(texts[k]) != expected[k]) ++mismatches;
        }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace upm
