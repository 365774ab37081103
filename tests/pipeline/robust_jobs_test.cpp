// Per-user jobs under bad luck: a 200 KB nested line is one bad record among
// good ones, a second writer on the same output is refused at once, and the
// exit code says when nothing was done. (Failed updates: update_job_test.cpp.)
#include <unistd.h>

#include <filesystem>

#include "pipeline_test_util.h"
#include "upm/pipeline/job_output.h"
#include "upm/pipeline/profile/profiler.h"

namespace {

using upm::test::read_json_lines;
using upm::test::tiny_model;
using upm::test::user_line;

const std::string kDeepLine = R"({"user_id":"deep","events":[{"id":"e1","kind":"rating","item":"x","value":)" +
                              std::string(100000, '[') + std::string(100000, ']') + "}]}";

TEST(ProfileJobInput, ANestedLineIsOneErrorAmongProfiles) {
  upm::test::TempDir dir;
  upm::test::write_lines(dir.file("logs.jsonl"), {user_line("a", 2), kDeepLine, user_line("b", 2)});
  upm::ProfileJobConfig config;
  config.generation.max_new_tokens = 8;
  auto summary = upm::run_profile_job(tiny_model(), config, dir.file("logs.jsonl"), dir.file("out.jsonl"));
  EXPECT_EQ(summary.written, 2);
  EXPECT_EQ(summary.errors, 1);
  const auto errors = read_json_lines(dir.file("out.jsonl.errors.jsonl"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("line"), 2);
  // No temporary files left beside the output.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(OutputLock, ASecondWriterOfTheSameOutputIsRefusedAtOnce) {
  upm::test::TempDir dir;
  const std::string out = dir.file("profiles.jsonl");
  {
    upm::JobOutput first(out, upm::Shard{});
    EXPECT_TRUE(std::filesystem::exists(out + ".lock"));
    UPM_EXPECT_THROW_WITH(
        upm::JobOutput(out, upm::Shard{}), upm::InputError,
        out + ": in use by another process (PID " + std::to_string(getpid()) + "; lock " + out + ".lock)");
    // Ranks write their own files: no conflict.
    upm::JobOutput rank1(out, upm::Shard{1, 2});
  }
  EXPECT_FALSE(std::filesystem::exists(out + ".lock")) << "released and removed with the job";
  EXPECT_NO_THROW(upm::JobOutput(out, upm::Shard{}));
}

TEST(OutputLock, ASecondProfileProcessExitsTwoNamingTheHolder) {
  upm::test::TempDir dir;
  std::vector<std::string> lines;
  for (int u = 0; u < 6; ++u) lines.push_back(user_line("u" + std::to_string(u), 3));
  upm::test::write_lines(dir.file("logs.jsonl"), lines);
  const std::string out = dir.file("out.jsonl");
  const std::string args = "--model " + upm::test::tiny_model_dir() + " --input " + dir.file("logs.jsonl") +
                           " --output " + out + " --set generation.max_new_tokens=4";
  {
    upm::JobOutput running(out, upm::Shard{});  // this process is the first writer
    auto second = upm::test::run_tool("upm-profile", args);
    EXPECT_EQ(second.code, 2) << second.output;
    EXPECT_NE(second.output.find(out + ": in use by another process (PID " + std::to_string(getpid()) + ";"),
              std::string::npos)
        << second.output;
    EXPECT_EQ(std::filesystem::file_size(out), 0u) << "the second writer wrote nothing";
  }
  // A lock file left by a killed job holds no lock: the next run goes.
  upm::test::write_lines(out + ".lock", {"999999"});
  auto third = upm::test::run_tool("upm-profile", args);
  EXPECT_EQ(third.code, 0) << third.output;
  EXPECT_EQ(read_json_lines(out).size(), 6u);
  EXPECT_FALSE(std::filesystem::exists(out + ".lock"));
}

TEST(JobExitCode, EmptyInputWarnsAndAllErrorsExitsTwo) {
  upm::test::TempDir dir;
  const std::string model = upm::test::tiny_model_dir();
  upm::test::write_lines(dir.file("empty.jsonl"), {});
  auto empty = upm::test::run_tool(
      "upm-profile", "--model " + model + " --input " + dir.file("empty.jsonl") + " --output " + dir.file("o1.jsonl"));
  EXPECT_EQ(empty.code, 0) << empty.output;
  EXPECT_NE(empty.output.find("holds no records"), std::string::npos) << empty.output;

  std::string garbage;
  for (int i = 0; i < 40; ++i)
    garbage += std::string(
                   "\x7f"
                   "ELF\x02\x01\x01 \x03 garbage ") +
               std::to_string(i) + "\n";
  upm::test::write_lines(dir.file("binary.jsonl"), {garbage});
  auto binary = upm::test::run_tool(
      "upm-profile", "--model " + model + " --input " + dir.file("binary.jsonl") + " --output " + dir.file("o2.jsonl"));
  EXPECT_EQ(binary.code, 2) << binary.output;
  EXPECT_NE(binary.output.find("upm-profile: no record succeeded: 0 written, 40 errors"), std::string::npos)
      << binary.output;
}

}  // namespace
