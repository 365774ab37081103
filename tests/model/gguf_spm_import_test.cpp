// Import of a GGUF with a SentencePiece ("llama") vocabulary: the tiny file
// tools/reference/gguf_spm_reference.py writes from tests/data/text/tiny_spm
// (800 pieces with scores and types, <0xXX> byte fallback, no merges), against
// what transformers' GGUF loader makes of it: the merges it recovers from the
// scores, and the ids and decoded text of a corpus with accents, CJK, emoji
// (byte fallback), leading spaces, newlines and special tokens.
#include <algorithm>

#include <gtest/gtest.h>

#include "gguf_test_util.h"
#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/model/gguf_file.h"
#include "upm/model/gguf_import.h"
#include "upm/model/gguf_tokenizer.h"
#include "upm/text/tokenizer.h"

namespace upm::test {
namespace {

using nlohmann::json;

json spm_expected() { return json::parse(read_file(gguf_data("tiny_spm_llama.expected.json"))); }

TEST(GgufSentencePieceImport, TokenizerEqualsTransformers) {
  TempDir dir;
  import_gguf(gguf_data("tiny_spm_llama.gguf"), dir.path());
  json expected = spm_expected();
  json written = json::parse(read_file(dir.file("tokenizer.json")));
  EXPECT_EQ(written["model"]["merges"], expected["merges"]);
  EXPECT_EQ(written["model"]["byte_fallback"], true);

  auto tokenizer = load_tokenizer(dir.path());
  int fallback_ids = 0;
  for (const json& row : expected["tokens"]) {
    std::string text = row["text"];
    auto ids = row["ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(tokenizer->encode(text, true), ids) << text;
    EXPECT_EQ(tokenizer->decode(ids), row["decoded"].get<std::string>()) << text;
    for (TokenId id : ids) fallback_ids += tokenizer->id_to_token(id).rfind("<0x", 0) == 0;
  }
  EXPECT_GT(fallback_ids, 20) << "the corpus exercises the byte fallback";
  // The text comes back with the special tokens skipped (the leading space
  // that Metaspace added is stripped again).
  EXPECT_EQ(tokenizer->decode(tokenizer->encode(" leading space", true), true), "leading space");
  EXPECT_EQ(tokenizer->decode(tokenizer->encode("emoji 🙂 and 日本", true), true), "emoji 🙂 and 日本");
  EXPECT_EQ(tokenizer->special_tokens().bos, 1);
  EXPECT_EQ(tokenizer->special_tokens().eos, 2);
  EXPECT_EQ(tokenizer->special_tokens().pad, 3);
}

TEST(GgufSentencePieceImport, SpacePrefixFlagFileMergesAndMismatchedScores) {
  std::string bytes = read_file(gguf_data("tiny_spm_llama.gguf"));
  GgufHeader header = parse_gguf_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "spm.gguf");
  GgufTokenizerFiles files = tokenizer_files_from_gguf(header, "spm.gguf", 128);
  EXPECT_EQ(files.tokenizer["pre_tokenizer"]["prepend_scheme"], "first");
  EXPECT_EQ(files.tokenizer["decoder"]["decoders"].size(), 4u);  // ... Strip
  EXPECT_EQ(files.tokenizer_config["add_bos_token"], true);
  EXPECT_EQ(files.tokenizer_config["unk_token"], "<unk>");

  // llama.cpp's add_space_prefix = false: no space put before the text, none stripped.
  GgufValue no_prefix;
  no_prefix.type = GgufValueType::kBool;
  no_prefix.boolean = false;
  header.metadata["tokenizer.ggml.add_space_prefix"] = no_prefix;
  files = tokenizer_files_from_gguf(header, "spm.gguf", 128);
  EXPECT_EQ(files.tokenizer["pre_tokenizer"]["prepend_scheme"], "never");
  EXPECT_EQ(files.tokenizer["decoder"]["decoders"].size(), 3u);

  // Merges in the file are taken as they are (transformers does so too).
  GgufValue merges;
  merges.type = GgufValueType::kArray;
  merges.element_type = GgufValueType::kString;
  for (const char* merge : {"i n", "▁ ▁"}) {
    GgufValue item;
    item.type = GgufValueType::kString;
    item.string = merge;
    merges.items.push_back(item);
  }
  header.metadata["tokenizer.ggml.merges"] = merges;
  files = tokenizer_files_from_gguf(header, "spm.gguf", 128);
  EXPECT_EQ(files.tokenizer["model"]["merges"], json::parse(R"([["i", "n"], ["▁", "▁"]])"));
  header.metadata.erase("tokenizer.ggml.merges");

  header.metadata["tokenizer.ggml.scores"].items.pop_back();
  UPM_EXPECT_THROW_WITH(tokenizer_files_from_gguf(header, "spm.gguf", 128), InputError, "799 scores for 800 tokens");
}

}  // namespace
}  // namespace upm::test
