// tokenizer.json features UPM does not implement are refused by name, and
// the parser survives garbage (random byte and structure mutations).

#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/core/error.h"
#include "upm/text/bpe_tokenizer.h"

namespace upm {
namespace {

using nlohmann::json;

json tiny_json() {
  std::ifstream file(test::text_data("tiny_bpe/tokenizer.json"));
  return json::parse(file);
}

void expect_refused(const json& document, const std::string& needle) {
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json(document.dump(), "tok.json"), InputError, needle);
}

TEST(TokenizerJson, UnsupportedFeaturesAreNamed) {
  json doc = tiny_json();
  doc["model"]["type"] = "WordPiece";
  expect_refused(doc, "model.type=WordPiece is not supported");

  doc = tiny_json();
  doc["normalizer"] = {{"type", "Lowercase"}};
  expect_refused(doc, "normalizer.type=Lowercase is not supported");

  doc = tiny_json();
  doc["pre_tokenizer"]["pretokenizers"][0]["type"] = "Digits";
  expect_refused(doc, "pre_tokenizer.pretokenizers[0].type=Digits is not supported");

  doc = tiny_json();
  doc["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "MergedWithNext";
  expect_refused(doc, "behavior=MergedWithNext is not supported");

  doc = tiny_json();
  doc["pre_tokenizer"] = nullptr;
  expect_refused(doc, "does not end with ByteLevel");

  doc = tiny_json();
  doc["decoder"] = {{"type", "WordPiece"}};
  expect_refused(doc, "decoder.type=WordPiece is not supported");

  doc = tiny_json();
  doc["post_processor"] = {{"type", "RobertaProcessing"}};
  expect_refused(doc, "post_processor.type=RobertaProcessing is not supported");

  doc = tiny_json();
  doc["model"]["byte_fallback"] = true;
  expect_refused(doc, "model.byte_fallback=true with a ByteLevel pre_tokenizer is not supported");

  doc = tiny_json();
  doc["model"]["dropout"] = 0.1;
  expect_refused(doc, "model.dropout is not supported");

  doc = tiny_json();
  doc["truncation"] = {{"max_length", 8}};
  expect_refused(doc, "truncation is not supported");
}

TEST(TokenizerJson, BrokenContentsAreLocated) {
  json doc = tiny_json();
  doc["model"]["merges"][3] = "nospace";
  expect_refused(doc, "tok.json: model.merges[3]: expected \"left right\"");

  doc = tiny_json();
  doc["model"]["merges"][0] = "zzzq 1";
  expect_refused(doc, "model.merges[0]: token 'zzzq' is not in the vocabulary");

  doc = tiny_json();
  doc["added_tokens"][0]["id"] = -3;
  expect_refused(doc, "added_tokens[0].id: id -3 out of range");

  doc = tiny_json();
  doc["model"]["vocab"]["a"] = 1 << 30;
  expect_refused(doc, "model.vocab.a: id 1073741824 out of range");

  doc = tiny_json();
  doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  expect_refused(doc, "pre_tokenizer.pattern: regex rejected");

  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json("{\"model\": ", "tok.json"), InputError, "tok.json: not valid JSON");
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_json("[1, 2]", "tok.json"), InputError, "expected a JSON object");
  UPM_EXPECT_THROW_WITH(BpeTokenizer::from_file("/nonexistent/tokenizer.json"), InputError,
                        "/nonexistent/tokenizer.json: cannot open");
}

// Loads or refuses cleanly; a tokenizer that loads must also encode and decode.
void load_or_refuse(const std::string& text) {
  try {
    auto tokenizer = BpeTokenizer::from_json(text, "mutant.json");
    auto ids = tokenizer->encode("Hello <|im_end|> wörld 123 \xF0\x9F\x98\x80 \xFF", true);
    tokenizer->decode(ids);
  } catch (const InputError&) {}
}

TEST(TokenizerJson, SurvivesRandomByteMutations) {
  const std::string original = tiny_json().dump();
  std::mt19937 rng(1234);
  for (int round = 0; round < 200; ++round) {
    std::string text = original;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[pos] = static_cast<char>(rng()); break;
        case 1: text.erase(pos, 1 + rng() % 16); break;
        case 2: text.insert(pos, 1, "{}[]\",:0-e\\"[rng() % 11]); break;
        default: text.resize(pos); break;
      }
      if (text.empty()) text = "{";
    }
    load_or_refuse(text);
  }
}

// Replaces a random node of the document (any depth) with a random value.
void mutate_structure(json& node, std::mt19937& rng) {
  static const json replacements[] = {
      nullptr, 7, -1, 1e300, "x", "", json::array(), json::object(), json::array({1, "a b", nullptr}), true};
  if ((node.is_object() || node.is_array()) && !node.empty() && rng() % 4 != 0) {
    auto it = node.begin();
    std::advance(it, rng() % node.size());
    mutate_structure(*it, rng);
    return;
  }
  node = replacements[rng() % (sizeof(replacements) / sizeof(replacements[0]))];
}

TEST(TokenizerJson, SurvivesRandomStructureMutations) {
  const json original = tiny_json();
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    json doc = original;
    for (int e = 0; e < 3; ++e) mutate_structure(doc, rng);
    load_or_refuse(doc.dump());
  }
}

}  // namespace
}  // namespace upm
