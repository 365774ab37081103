// upm-infer run as a user would (binaries from the build's bin/), checked against
// the transformers reference's goldens (tools/reference/model_reference.py).
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "model_test_util.h"
#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/jsonl.h"
#include "upm/text/tokenizer.h"
#include "test_paths.h"

namespace upm::test {
namespace {

using Result = ToolResult;

Result run_infer(const std::string& args) { return run_tool("upm-infer", args); }

TEST(InferToolParity, ScoreMatchesReferenceLogprobs) {
  for (std::string family : {"llama", "qwen2", "qwen3"}) {
    TempDir dir;
    Result r = run_infer("score --model " + model_dir(family) + " --input " + model_dir(family) +
                         "/score_input.jsonl --output " + dir.file("out.jsonl") + " --batch 2");
    ASSERT_EQ(r.code, 0) << r.output;
    auto got = read_jsonl_file(dir.file("out.jsonl"));
    auto expected = read_jsonl_file(model_dir(family) + "/score_expected.jsonl");
    ASSERT_EQ(got.size(), expected.size());
    for (size_t s = 0; s < got.size(); ++s) {
      EXPECT_EQ(got[s]["ids"], expected[s]["ids"]);
      auto lp = got[s]["logprobs"].get<std::vector<double>>();
      auto want = expected[s]["logprobs"].get<std::vector<double>>();
      ASSERT_EQ(lp.size(), want.size());
      for (size_t i = 0; i < lp.size(); ++i)
        EXPECT_NEAR(lp[i], want[i], 1e-4) << family << " seq " << s << " token " << i;
    }
  }
}

TEST(InferToolParity, GenerateMatchesReferenceGreedy) {
  std::vector<int64_t> prompt = to_vector(golden("qwen2", "greedy_prompt"));
  std::vector<int64_t> expected = to_vector(golden("qwen2", "greedy_ids"));
  std::string ids;
  for (int64_t id : prompt) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  Result r = run_infer("generate --model " + model_dir("qwen2") + " --ids " + ids + " --max-new-tokens 32 --json");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["ids"].get<std::vector<int64_t>>(), expected);

  Result stop = run_infer("generate --model " + model_dir("qwen2") + " --ids " + ids +
                          " --max-new-tokens 32 --stop-ids " + std::to_string(expected[2]));
  ASSERT_EQ(stop.code, 0) << stop.output;
  // Stops at the first occurrence of the stop id (kept).
  size_t first = size_t(std::find(expected.begin(), expected.end(), expected[2]) - expected.begin());
  std::string want;
  for (size_t i = 0; i <= first; ++i) want += (i ? " " : "") + std::to_string(expected[i]);
  EXPECT_EQ(stop.output, want + "\n");
}

// {"text"} lines are encoded by the folder's tokenizer and scored like the ids.
TEST(InferTool, ScoresTextWithTheFolderTokenizer) {
  const std::string tokenizer_json = upm::test::test_data_dir() + "/text/tiny_bpe/tokenizer.json";
  auto tokenizer = load_tokenizer(tokenizer_json);
  ModelConfig config = load_model_config(model_dir("qwen3"));
  config.vocab_size = tokenizer->vocab_size();
  CausalLM model(config, ModelRuntime{}, InitMode::random, 5);
  TempDir dir;
  save_pretrained(model, dir.file("lm"));
  std::filesystem::copy_file(tokenizer_json, dir.file("lm/tokenizer.json"));
  const std::string text = "the user likes quiet films";
  std::vector<TokenId> encoded = tokenizer->encode(text, true);
  std::vector<int64_t> ids(encoded.begin(), encoded.end());
  write_file_atomic(dir.file("in.jsonl"),
                    nlohmann::json{{"text", text}}.dump() + "\n" + nlohmann::json{{"ids", ids}}.dump() + "\n");
  Result r = run_infer("score --model " + dir.file("lm") + " --input " + dir.file("in.jsonl") + " --output " +
                       dir.file("out.jsonl"));
  ASSERT_EQ(r.code, 0) << r.output;
  auto out = read_jsonl_file(dir.file("out.jsonl"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["ids"].get<std::vector<int64_t>>(), ids);
  EXPECT_EQ(out[0]["logprobs"].size(), ids.size() - 1);
  // Same ids, scored as rows of one batch: equal up to float32 rounding
  // (one value differed in its last bit on one CPU).
  const auto from_text = out[0]["logprobs"].get<std::vector<double>>();
  const auto from_ids = out[1]["logprobs"].get<std::vector<double>>();
  ASSERT_EQ(from_text.size(), from_ids.size());
  for (size_t i = 0; i < from_text.size(); ++i) EXPECT_NEAR(from_text[i], from_ids[i], 1e-5) << i;
}

TEST(InferTool, BadInputExitsTwoNamingFileLineAndField) {
  TempDir dir;
  write_file_atomic(dir.file("in.jsonl"), "{\"ids\": [1, 2, 3]}\n{\"ids\": [1, 999]}\n");
  Result r = run_infer("score --model " + model_dir("llama") + " --input " + dir.file("in.jsonl") + " --output " +
                       dir.file("out.jsonl"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find(dir.file("in.jsonl") + ":2: ids:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("outside the vocabulary"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.jsonl")));

  write_file_atomic(dir.file("in.jsonl"), "{\"ids\": [1, 2]}\nnot json\n");
  r = run_infer("score --model " + model_dir("llama") + " --input " + dir.file("in.jsonl") + " --output " +
                dir.file("o"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("in.jsonl:2"), std::string::npos) << r.output;

  r = run_infer("generate --model " + model_dir("llama") + " --ids 1,x,3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--ids"), std::string::npos) << r.output;
  r = run_infer("generate --model " + dir.path() + " --ids 1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("config.json"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace upm::test
