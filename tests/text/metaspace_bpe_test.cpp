// SentencePiece-style BPE in tokenizer.json (HF's conversion of Llama 2 /
// Mistral vocabularies): Metaspace pre-tokenizer with each prepend scheme
// and split, or the Prepend + Replace normalizers of older files, characters as symbols, <0xXX> byte fallback, fused
// unk, and the Replace + ByteFallback + Fuse + Strip decoder, on a hand-made vocabulary. Expected ids and text are what
// HF tokenizers 0.23.3 gives for the same tokenizer.json (encode without special tokens, decode keeping them).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "upm/core/error.h"
#include "upm/text/bpe_tokenizer.h"

namespace upm {
namespace {

using nlohmann::json;

json tokenizer_json(const std::string& prepend, bool split, bool strip) {
  json vocab = {{"<unk>", 0},  {"<s>", 1},    {"</s>", 2}, {"<0xC3>", 3}, {"<0xA9>", 4}, {"<0xE2>", 5},
                {"<0x9C>", 6}, {"<0xA8>", 7}, {"▁", 8},    {"a", 9},      {"b", 10},     {"c", 11},
                {"▁a", 12},    {"ab", 13},    {"▁ab", 14}, {"abc", 15},   {"▁▁", 16},    {"\n", 17}};
  json merges = json::array({{"a", "b"}, {"▁", "a"}, {"▁a", "b"}, {"ab", "c"}, {"▁", "▁"}});
  json added = json::array();
  for (auto [id, content] : {std::pair{0, "<unk>"}, {1, "<s>"}, {2, "</s>"}})
    added.push_back({{"id", id}, {"content", content}, {"normalized", false}, {"special", true}});
  json decoders = json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  if (strip) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return {
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", prepend}, {"split", split}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", merges}}}};
}

struct Case {
  std::string text;
  std::vector<TokenId> ids;
  std::string decoded;
};

void expect_cases(const json& spec, const std::vector<Case>& cases) {
  auto tokenizer = BpeTokenizer::from_json(spec.dump(), "metaspace.json");
  for (const Case& c : cases) {
    EXPECT_EQ(tokenizer->encode(c.text), c.ids) << c.text;
    EXPECT_EQ(tokenizer->decode(c.ids), c.decoded) << c.text;
  }
}

// Shared by every scheme: merges by rank, byte fallback for "é" and "✨",
// unknown "xyz" fused into one <unk>, and an <unk> pending across a byte
// fallback lands after it ("éxé": HF's order).
TEST(MetaspaceBpe, PrependFirstOnlyAtTheStartOfTheText) {
  expect_cases(tokenizer_json("first", false, true), {{"abc ab a", {8, 15, 8, 13, 12}, "abc ab a"},
                                                      {" ab", {8, 13}, "ab"},
                                                      {"  abc", {16, 15}, " abc"},
                                                      {"é✨", {8, 3, 4, 5, 6, 7}, "é✨"},
                                                      {"xyz a", {8, 0, 12}, "<unk> a"},
                                                      {"a</s>ab", {12, 2, 13}, "a</s>ab"},
                                                      {"</s>ab", {2, 13}, "</s>ab"},
                                                      {"ab\nab", {8, 13, 17, 13}, "ab\nab"},
                                                      {"éxé", {8, 3, 4, 3, 4, 0}, "éé<unk>"},
                                                      {"", {}, ""}});
}

TEST(MetaspaceBpe, PrependAlwaysAfterEverySpecialToken) {
  expect_cases(tokenizer_json("always", false, true), {{"abc ab a", {8, 15, 8, 13, 12}, "abc ab a"},
                                                       {"a</s>ab", {12, 2, 8, 13}, "a</s> ab"},
                                                       {"</s>ab", {2, 8, 13}, "</s> ab"}});
}

TEST(MetaspaceBpe, PrependNeverAndNoStrip) {
  expect_cases(tokenizer_json("never", false, false), {{"abc ab a", {15, 8, 13, 12}, "abc ab a"},
                                                       {" ab", {8, 13}, " ab"},
                                                       {"  abc", {16, 15}, "  abc"},
                                                       {"é✨", {3, 4, 5, 6, 7}, "é✨"},
                                                       {"a</s>ab", {9, 2, 13}, "a</s>ab"}});
}

TEST(MetaspaceBpe, SplitCutsBeforeEachReplacement) {
  expect_cases(tokenizer_json("first", true, true),
               {{"  abc", {8, 8, 15}, " abc"}, {"abc ab a", {8, 15, 8, 13, 12}, "abc ab a"}});
}

// Llama 2 / Mistral files on the Hub: no pre-tokenizer, a normalizer puts
// U+2581 before every piece of text (also after an added token) and for
// every space.
TEST(MetaspaceBpe, PrependAndReplaceNormalizers) {
  json spec = tokenizer_json("first", false, true);
  spec["pre_tokenizer"] = nullptr;
  spec["normalizer"] = {
      {"type", "Sequence"},
      {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "▁"}},
                                   {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}})}};
  expect_cases(spec, {{"abc ab a", {8, 15, 8, 13, 12}, "abc ab a"},
                      {" ab", {16, 13}, " ab"},
                      {"  abc", {16, 8, 15}, "  abc"},
                      {"é✨", {8, 3, 4, 5, 6, 7}, "é✨"},
                      {"a</s>ab", {12, 2, 8, 13}, "a</s> ab"},
                      {"éxé", {8, 3, 4, 3, 4, 0}, "éé<unk>"},
                      {"", {}, ""}});
}

TEST(MetaspaceBpe, DecodeKeepsBytesAndSkipsSpecials) {
  auto tokenizer = BpeTokenizer::from_json(tokenizer_json("first", false, true).dump(), "metaspace.json");
  // HF writes one U+FFFD per byte of a run that is not UTF-8; UPM keeps the bytes.
  EXPECT_EQ(tokenizer->decode({3, 9, 5, 6, 9}),
            "\xC3"
            "a\xE2\x9C"
            "a");
  EXPECT_EQ(tokenizer->decode({1, 8, 9, 2}, true), "a");
  EXPECT_EQ(tokenizer->encode("ab", true), (std::vector<TokenId>{1, 8, 13}));
}

TEST(MetaspaceBpe, RefusedCombinations) {
  json spec = tokenizer_json("first", false, true);
  spec["pre_tokenizer"]["prepend_scheme"] = "sometimes";
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json(spec.dump(), "m.json"), InputError,
                        "pre_tokenizer.prepend_scheme=sometimes is not supported");
  spec = tokenizer_json("first", false, true);
  spec["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers", json::array({spec["pre_tokenizer"], {{"type", "ByteLevel"}}})}};
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json(spec.dump(), "m.json"), InputError,
                        "both ByteLevel and Metaspace is not supported");
  spec = tokenizer_json("first", false, true);
  spec["decoder"]["decoders"][0]["pattern"] = {{"Regex", "x"}};
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json(spec.dump(), "m.json"), InputError, "pattern (only");
  spec = tokenizer_json("first", false, true);
  spec["decoder"]["decoders"][3]["content"] = "ab";
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json(spec.dump(), "m.json"), InputError, "expected one character");
}

}  // namespace
}  // namespace upm
