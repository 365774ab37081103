// load_tokenizer(): backend by file, special tokens from the model folder.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/core/error.h"
#include "upm/text/tokenizer.h"

namespace upm {
namespace {

namespace fs = std::filesystem;

void write_file(const std::string& path, const std::string& contents) { std::ofstream(path) << contents; }

TEST(LoadTokenizer, FolderWithTokenizerJsonReadsSpecialsFromConfigs) {
  test::TempDir dir;
  fs::copy_file(test::text_data("tiny_bpe/tokenizer.json"), dir.file("tokenizer.json"));
  write_file(dir.file("tokenizer_config.json"),
             R"({"bos_token": "<|bos|>", "eos_token": {"content": "<|eos|>"}, "pad_token": "<|endoftext|>"})");
  write_file(dir.file("generation_config.json"), R"({"eos_token_id": [855]})");
  auto tokenizer = load_tokenizer(dir.path());
  const SpecialTokens& special = tokenizer->special_tokens();
  auto id = [&](const char* token) { return *tokenizer->token_to_id(token); };
  EXPECT_EQ(special.bos, id("<|bos|>"));
  EXPECT_EQ(special.eos, id("<|eos|>"));
  EXPECT_EQ(special.pad, id("<|endoftext|>"));
  // eos, the generation config's ids and the chat end marker, sorted.
  std::vector<TokenId> stop{855, id("<|eos|>"), id("<|im_end|>")};
  std::sort(stop.begin(), stop.end());
  EXPECT_EQ(special.stop, stop);
  EXPECT_EQ(tokenizer->encode("hi", true).front(), id("<|bos|>"));
}

TEST(LoadTokenizer, BareFileHasNoBosOrEosButStopsAtChatMarkers) {
  auto tokenizer = load_tokenizer(test::text_data("tiny_gpt2/tokenizer.json"));
  EXPECT_FALSE(tokenizer->special_tokens().bos.has_value());
  EXPECT_FALSE(tokenizer->special_tokens().eos.has_value());
  EXPECT_EQ(tokenizer->special_tokens().stop, std::vector<TokenId>{*tokenizer->token_to_id("<|im_end|>")});
}

TEST(LoadTokenizer, BadPathsAndConfigsAreInputErrors) {
  test::TempDir dir;
  UPM_EXPECT_THROW_WITH(load_tokenizer(dir.path()), InputError, "neither tokenizer.json nor tokenizer.model");
  UPM_EXPECT_THROW_WITH(load_tokenizer(dir.file("missing.json")), InputError, "no such tokenizer");
  write_file(dir.file("vocab.txt"), "a\n");
  UPM_EXPECT_THROW_WITH(load_tokenizer(dir.file("vocab.txt")), InputError, "unknown tokenizer file type");
  fs::copy_file(test::text_data("tiny_bpe/tokenizer.json"), dir.file("tokenizer.json"));
  write_file(dir.file("tokenizer_config.json"), R"({"eos_token": "<|nope|>"})");
  UPM_EXPECT_THROW_WITH(load_tokenizer(dir.path()), InputError, "eos_token: token '<|nope|>' is not in the vocabulary");
  write_file(dir.file("tokenizer_config.json"), "{broken");
  UPM_EXPECT_THROW_WITH(load_tokenizer(dir.path()), InputError, "tokenizer_config.json: not a JSON object");
}

}  // namespace
}  // namespace upm
