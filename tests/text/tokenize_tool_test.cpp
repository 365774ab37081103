// upm-infer tokenize / detokenize, run as the user runs them.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/text/tokenizer.h"
#include "test_paths.h"

namespace upm {
namespace {

struct RunResult {
  int exit_code;
  std::string stderr_text;
};

RunResult run_infer(const std::string& args, const test::TempDir& dir) {
  std::string command = upm::test::bin_dir() + "/upm-infer " + args + " 2>" + dir.file("stderr.txt");
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
  std::ofstream(dir.file("in.jsonl")) << R"({"text": "Hello <|im_end|> \u4e16\u754c", "user_id": "u1"})"
                                      << "\n\n"
                                      << R"({"text": "na\u00efve  \r\n tabs\t"})"
                                      << "\n";
  auto tokenized = run_infer(
      "tokenize --tokenizer " + model + " --input " + dir.file("in.jsonl") + " --output " + dir.file("ids.jsonl"), dir);
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

// Runs `command` on a file holding `contents`; expects exit 2 and `needle` on stderr.
void expect_bad_input(const std::string& command, const std::string& contents, const std::string& needle) {
  test::TempDir dir;
  std::ofstream(dir.file("in.jsonl")) << contents;
  auto result = run_infer(command + " --tokenizer " + test::text_data("tiny_bpe") + " --input " + dir.file("in.jsonl") +
                              " --output " + dir.file("out.jsonl"),
                          dir);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.stderr_text.find("in.jsonl:" + needle), std::string::npos) << result.stderr_text;
  EXPECT_FALSE(std::ifstream(dir.file("out.jsonl")).good()) << "no partial output";
}

TEST(TokenizeTool, BadLinesExitTwoNamingFileLineAndField) {
  expect_bad_input("tokenize", "{\"text\": \"ok\"}\n{\"txt\": \"bad\"}\n", "2: text:");
  expect_bad_input("detokenize", "{\"ids\": [1, 2]}\n{\"ids\": [3, 99999999]}\n", "2: ids[1]: not a token id");
  expect_bad_input("tokenize", "{\"text\": \"ok\"}\nnot json\n", "2: invalid JSON");
}

}  // namespace
}  // namespace upm
