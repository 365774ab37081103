// SentencePiece: ids equal to the `spm_encode` CLI's on the same model
// (goldens by tools/reference/spm_goldens.py), round trips, training.

#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/core/error.h"
#include "upm/text/sentencepiece_tokenizer.h"
#include "upm/text/sentencepiece_trainer.h"
#include "test_paths.h"

namespace upm {
namespace {

std::string tiny_model() { return test::text_data("tiny_spm/tokenizer.model"); }

TEST(SentencePiece, IdsMatchSpmEncodeOnEveryLine) {
  auto tokenizer = SentencePieceTokenizer::from_file(tiny_model());
  auto goldens = read_jsonl_file(test::text_data("tiny_spm_goldens.jsonl"));
  ASSERT_GT(goldens.size(), 100u);
  for (const auto& golden : goldens) {
    std::string text = golden.at("text").get<std::string>();
    SCOPED_TRACE(text);
    auto ids = tokenizer->encode(text);
    EXPECT_EQ(ids, golden.at("ids").get<std::vector<TokenId>>());
    EXPECT_EQ(tokenizer->decode(ids), text);  // byte fallback: every line comes back
  }
}

TEST(SentencePiece, SpecialsAndLookups) {
  auto tokenizer = SentencePieceTokenizer::from_file(tiny_model());
  const auto& special = tokenizer->special_tokens();
  EXPECT_EQ(special.bos, 1);
  EXPECT_EQ(special.eos, 2);
  EXPECT_EQ(special.pad, 3);
  EXPECT_EQ(tokenizer->id_to_token(1), "<s>");
  EXPECT_EQ(tokenizer->token_to_id("</s>"), 2);
  EXPECT_EQ(tokenizer->token_to_id("<unk>"), 0);
  EXPECT_FALSE(tokenizer->token_to_id("no such piece").has_value());
  EXPECT_EQ(tokenizer->vocab_size(), 800);

  // Control pieces written in the text are single tokens; user-defined
  // chat markers are SentencePiece's own pieces.
  auto im_start = *tokenizer->token_to_id("<|im_start|>");
  auto ids = tokenizer->encode("<s>hi</s>");
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  EXPECT_EQ(tokenizer->decode(ids), "<s>hi</s>");
  EXPECT_EQ(tokenizer->decode(ids, true), "hi");
  auto chat = tokenizer->encode("<|im_start|>user");
  EXPECT_NE(std::find(chat.begin(), chat.end(), im_start), chat.end());
  EXPECT_EQ(tokenizer->encode("hi", true).front(), 1);
  EXPECT_EQ(tokenizer->decode({-1, 100000}), "");
}

TEST(SentencePiece, TrainedModelRoundTripsAnyText) {
  test::TempDir dir;
  {
    std::ofstream corpus(dir.file("corpus.txt"));
    for (const auto& golden : read_jsonl_file(test::text_data("tiny_spm_goldens.jsonl")))
      corpus << golden.at("text").get<std::string>() << "\n";
  }
  SentencePieceTrainOptions options;
  options.input = dir.file("corpus.txt");
  options.output_dir = dir.file("model");
  options.vocab_size = 700;
  options.character_coverage = 0.98;
  options.num_threads = 1;
  train_sentencepiece(options);
  auto tokenizer = load_tokenizer(dir.file("model"));
  EXPECT_EQ(tokenizer->vocab_size(), 700);
  EXPECT_EQ(tokenizer->special_tokens().eos, 2);
  EXPECT_EQ(tokenizer->special_tokens().pad, 3);
  for (std::string text : {"  two  spaces\tand a tab  ", "unseen: \xE2\x98\x83 \xF0\x9F\xA7\xBF \xD5\x80", "1234 5678",
                           "<|im_start|>user\nhi<|im_end|>\n", "line\r\nbreak"}) {
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(text)), text);
  }
}

TEST(SentencePiece, BadModelAndTrainingInputsAreInputErrors) {
  test::TempDir dir;
  std::ofstream(dir.file("garbage.model")) << "not a protobuf";
  UPM_EXPECT_THROW_WITH(SentencePieceTokenizer::from_file(dir.file("garbage.model")), InputError,
                        "not a SentencePiece model");
  // Found by fuzz/sentencepiece_model_fuzz.cpp: "<0x-1>" once indexed the byte table at -1.
  std::ifstream model(tiny_model(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(model)), std::istreambuf_iterator<char>());
  auto at = bytes.find("<0x0A>");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 6, "<0x-1>");
  UPM_EXPECT_THROW_WITH(SentencePieceTokenizer::from_bytes(bytes, "m.model"), InputError,
                        "m.model: pieces: byte piece '<0x-1>' is not <0xNN>");

  SentencePieceTrainOptions options;
  options.input = dir.file("missing.txt");
  options.output_dir = dir.file("out");
  UPM_EXPECT_THROW_WITH(train_sentencepiece(options), InputError, "training corpus missing or empty");
  std::ofstream(dir.file("small.txt")) << "abc\n";
  options.input = dir.file("small.txt");
  options.vocab_size = 5000;
  UPM_EXPECT_THROW_WITH(train_sentencepiece(options), InputError, "SentencePiece training failed");
}

}  // namespace
}  // namespace upm

namespace upm {
namespace {

TEST(SentencePiece, SurvivesCorruptModels) {
  std::ifstream file(tiny_model(), std::ios::binary);
  std::string original((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  test::TempDir dir;
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string bytes = original;
    for (int e = 0; e < 3; ++e) {
      std::size_t pos = rng() % bytes.size();
      if (rng() % 3 == 0) {
        bytes.resize(pos);
      } else {
        bytes[pos] = static_cast<char>(rng());
      }
      if (bytes.empty()) bytes = "x";
    }
    std::ofstream(dir.file("m.model"), std::ios::binary) << bytes;
    try {
      auto tokenizer = SentencePieceTokenizer::from_file(dir.file("m.model"));
      tokenizer->decode(tokenizer->encode("Hello <s> w\xC3\xB6rld 123 \xF0\x9F\x98\x80", true));
    } catch (const InputError&) {}
  }
}

TEST(SentencePiece, TrainCommandWritesALoadableModel) {
  test::TempDir dir;
  {
    std::ofstream corpus(dir.file("corpus.txt"));
    for (const auto& golden : read_jsonl_file(test::text_data("tiny_spm_goldens.jsonl")))
      corpus << golden.at("text").get<std::string>() << "\n";
  }
  std::string bin = upm::test::bin_dir() + "/upm-data";
  std::string command = bin + " tokenizer-train --input " + dir.file("corpus.txt") + " --vocab-size 650" +
                        " --character-coverage 0.98 --output " + dir.file("out") + " 2>" + dir.file("err.txt");
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto tokenizer = load_tokenizer(dir.file("out"));
  EXPECT_EQ(tokenizer->vocab_size(), 650);
  EXPECT_EQ(tokenizer->decode(tokenizer->encode("hello world")), "hello world");

  std::string missing = bin + " tokenizer-train --input " + dir.file("none.txt") + " --output " + dir.file("o2") +
                        " 2>" + dir.file("err.txt");
  int status = std::system(missing.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream err(dir.file("err.txt"));
  std::string message((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(message.find("none.txt: training corpus missing or empty"), std::string::npos) << message;
}

}  // namespace
}  // namespace upm
