// upm-infer tokenize / detokenize, run as the user runs them.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/text/tokenizer.h"

namespace upm {
namespace {

struct RunResult {
  int exit_code;
  std::string stderr_text;
};

RunResult run_infer(const std::string& args, const test::TempDir& dir) {
  std::string command = std::string(UPM_BIN_DIR) + "/upm-infer " + args + " 2>" + dir.file("stderr.txt");
  int status = std::system(command.c_str());
  std::ifstream err(dir.file("stderr.txt"));
  std::stringstream text;
  text << err.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

std::string slurp(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(TokenizeTool, TokenizeThenDetokenizeRoundTripsRecords) {
  test::TempDir dir;
  std::string model = test::text_data("tiny_bpe");
  std::ofstream(dir.file("in.jsonl")) << R"({"text": "Hello <|im_end|> \u4e16\u754c", "user_id": "u1"})" << "\n\n"
                                      << R"({"text": "na\u00efve  \r\n tabs\t"})" << "\n";
  auto tokenized = run_infer("tokenize --tokenizer " + model + " --input " + dir.file("in.jsonl") + " --output " +
                                 dir.file("ids.jsonl"),
                             dir);
  ASSERT_EQ(tokenized.exit_code, 0) << tokenized.stderr_text;
  auto tokenizer = load_tokenizer(model);
  auto lines = read_jsonl_file(dir.file("ids.jsonl"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("ids").get<std::vector<TokenId>>(), tokenizer->encode("Hello <|im_end|> \u4e16\u754c"));
  EXPECT_EQ(lines[0].at("user_id"), "u1");
  EXPECT_FALSE(lines[0].contains("text"));

  auto detokenized = run_infer("detokenize --tokenizer " + model + "/tokenizer.json --input " + dir.file("ids.jsonl") +
                                   " --output " + dir.file("back.jsonl"),
                               dir);
  ASSERT_EQ(detokenized.exit_code, 0) << detokenized.stderr_text;
  auto back = read_jsonl_file(dir.file("back.jsonl"));
  EXPECT_EQ(back[0].at("text"), "Hello <|im_end|> \u4e16\u754c");
  EXPECT_EQ(back[1].at("text"), "na\u00efve  \r\n tabs\t");
  EXPECT_EQ(back[0].at("user_id"), "u1");
}

TEST(TokenizeTool, BadLinesExitTwoNamingFileLineAndField) {
  test::TempDir dir;
  std::string model = test::text_data("tiny_bpe");
  std::ofstream(dir.file("no_text.jsonl")) << "{\"text\": \"ok\"}\n{\"txt\": \"bad\"}\n";
  auto missing = run_infer("tokenize --tokenizer " + model + " --input " + dir.file("no_text.jsonl") + " --output " +
                               dir.file("out.jsonl"),
                           dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.stderr_text.find("no_text.jsonl:2: text:"), std::string::npos) << missing.stderr_text;
  EXPECT_FALSE(std::ifstream(dir.file("out.jsonl")).good()) << "no partial output";

  std::ofstream(dir.file("bad_ids.jsonl")) << "{\"ids\": [1, 2]}\n{\"ids\": [3, 99999999]}\n";
  auto out_of_range = run_infer("detokenize --tokenizer " + model + " --input " + dir.file("bad_ids.jsonl") +
                                    " --output " + dir.file("out.jsonl"),
                                dir);
  EXPECT_EQ(out_of_range.exit_code, 2);
  EXPECT_NE(out_of_range.stderr_text.find("bad_ids.jsonl:2: ids[1]: not a token id"), std::string::npos)
      << out_of_range.stderr_text;

  std::ofstream(dir.file("garbage.jsonl")) << "{\"text\": \"ok\"}\nnot json\n";
  auto garbage = run_infer("tokenize --tokenizer " + model + " --input " + dir.file("garbage.jsonl") + " --output " +
                               dir.file("out.jsonl"),
                           dir);
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_NE(garbage.stderr_text.find("garbage.jsonl:2: invalid JSON"), std::string::npos) << garbage.stderr_text;

}

}  // namespace
}  // namespace upm
