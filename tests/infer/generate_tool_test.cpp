// `upm-infer generate` run as a user would, against the library on the same
// model folder: a random model sized for the tiny BPE tokenizer, saved with it.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "infer_test_util.h"
#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/infer/generate_job.h"
#include "upm/infer/sampler.h"
#include "upm/infer/text_generation.h"
#include "upm/model/weights_loader.h"
#include "test_paths.h"

namespace upm::test {
namespace {

using Result = ToolResult;

Result run_generate(const std::string& args) { return run_tool("upm-infer", "generate " + args); }

std::vector<nlohmann::json> json_lines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::stringstream in(output);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

class GenerateTool : public ::testing::Test {
 protected:
  void SetUp() override {
    save_pretrained(*model, dir.path());
    std::filesystem::copy_file(upm::test::test_data_dir() + "/text/tiny_bpe/tokenizer.json",
                               dir.file("tokenizer.json"));
  }
  TempDir dir;
  std::unique_ptr<Tokenizer> tokenizer = tiny_tokenizer();
  std::shared_ptr<CausalLM> model = random_text_model(tokenizer->vocab_size());
  Generator gen{*model, tokenizer.get()};
};

TEST_F(GenerateTool, MessagesGoThroughTheModelsChatTemplate) {
  write_file_atomic(dir.file("chat.json"), R"([{"role": "user", "content": "hello world"}])");
  Result r =
      run_generate("--model " + dir.path() + " --messages " + dir.file("chat.json") + " --max-new-tokens 6 --json");
  ASSERT_EQ(r.code, 0) << r.output;
  GenerationConfig config;
  config.sampling.temperature = 0.0;
  config.max_new_tokens = 6;
  auto expected = generate_chat(gen, ChatTemplate::for_model(dir.path()), {{{"user", "hello world"}}}, config)[0];
  auto lines = json_lines(r.output);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["ids"].get<std::vector<int64_t>>(), expected.tokens);
  // The tool writes invalid UTF-8 (a character cut by the token limit) as U+FFFD.
  auto replaced = nlohmann::json(expected.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  EXPECT_EQ(lines[0]["text"], nlohmann::json::parse(replaced));
}

TEST_F(GenerateTool, PromptWithSampledGroup) {
  Result r = run_generate("--model " + dir.path() +
                          " --prompt 'the cat' --num-samples 3 --temperature 0.9 --top-k 50 --top-p 0.95"
                          " --min-p 0.01 --repetition-penalty 1.1 --seed 5 --max-new-tokens 5 --json");
  ASSERT_EQ(r.code, 0) << r.output;
  GenerationConfig config;
  config.sampling.temperature = 0.9;
  config.sampling.top_k = 50;
  config.sampling.top_p = 0.95;
  config.sampling.min_p = 0.01;
  config.sampling.repetition_penalty = 1.1;
  config.max_new_tokens = 5;
  auto ids = tokenizer->encode("the cat", true);
  std::vector<int64_t> prompt(ids.begin(), ids.end());
  auto lines = json_lines(r.output);
  ASSERT_EQ(lines.size(), 3u);
  for (int64_t g = 0; g < 3; ++g) {
    auto alone = gen.generate({prompt}, config, {sequence_seed(5, g)})[0];
    EXPECT_EQ(lines[g]["ids"].get<std::vector<int64_t>>(), alone.tokens) << "sample " << g;
    EXPECT_EQ(lines[g]["sample"], g);
  }
}

TEST_F(GenerateTool, BadInputExitsTwoNamingIt) {
  Result r = run_generate("--model " + dir.path() + " --ids 1,2 --prompt x");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("exactly one of"), std::string::npos) << r.output;
  write_file_atomic(dir.file("chat.json"), R"([{"role": "user"}])");
  r = run_generate("--model " + dir.path() + " --messages " + dir.file("chat.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("messages[0]"), std::string::npos) << r.output;
  r = run_generate("--model " + dir.path() + " --ids 1,2 --top-p 1.5");
  EXPECT_EQ(r.code, 2);
}

TEST(GenerateJob, ReadsIdsAndChatFilesAndFormatsSamples) {
  EXPECT_EQ(parse_token_ids("1,22,-3"), (std::vector<int64_t>{1, 22, -3}));
  UPM_EXPECT_THROW_WITH(parse_token_ids("1,2x"), InputError, "--ids: expected comma-separated token ids, got \"2x\"");
  UPM_EXPECT_THROW_WITH(parse_token_ids("1,,2"), InputError, "got \"\"");
  TempDir dir;
  write_file_atomic(dir.file("chat.json"), R"({"messages": [{"role": "user", "content": "hi"}]})");
  const std::vector<ChatMessage> chat = read_chat_messages(dir.file("chat.json"));
  ASSERT_EQ(chat.size(), 1u);
  EXPECT_EQ(chat[0].role, "user");
  EXPECT_EQ(chat[0].content, "hi");
  write_file_atomic(dir.file("bad.json"), R"({"turns": []})");
  UPM_EXPECT_THROW_WITH(read_chat_messages(dir.file("bad.json")), InputError, "messages: expected an array");

  Generation g;
  g.tokens = {5, 7};
  g.text = "ab";
  EXPECT_EQ(format_generations({g, g}, GenerationPrint::ids), (std::vector<std::string>{"5 7", "5 7"}));
  EXPECT_EQ(format_generations({g}, GenerationPrint::text), (std::vector<std::string>{"ab"}));
  const auto json = format_generations({g, g}, GenerationPrint::json);
  EXPECT_EQ(nlohmann::json::parse(json[1]).at("sample"), 1);
}

}  // namespace
}  // namespace upm::test
