// Batch profiling: every user accounted for (profile or error) exactly once,
// across a SIGKILL and a rerun, and across ranks.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "pipeline_test_util.h"
#include "upm/pipeline/profile/profile_text.h"
#include "upm/pipeline/profile/profile_writer.h"
#include "upm/pipeline/profile/profiler.h"
#include "test_paths.h"

namespace {

using upm::test::read_json_lines;
using upm::test::tiny_model;
using upm::test::user_line;

// 10 good users, one unparsable line, one invalid event, one duplicate user
// and one user without events: 14 input lines.
std::vector<std::string> mixed_logs() {
  std::vector<std::string> lines;
  for (int u = 0; u < 10; ++u) lines.push_back(user_line("u" + std::to_string(u), 2 + u % 4));
  lines.insert(lines.begin() + 3, "{not json");
  lines.insert(lines.begin() + 6,
               R"({"user_id": "bad", "events": [{"id": "e1", "kind": "rating", "item": "x", "value": "five"}]})");
  lines.push_back(user_line("u2", 1));  // duplicate of u2
  lines.push_back(R"({"user_id": "empty", "events": []})");
  return lines;
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) n += !line.empty();
  return n;
}

// Every good user has exactly one profile, every bad line exactly one error.
void expect_all_accounted(const std::string& out) {
  std::map<std::string, int> profiles;
  for (const auto& j : read_json_lines(out)) {
    profiles[j.at("user_id").get<std::string>()]++;
    EXPECT_EQ(j.at("version"), 1);
    EXPECT_EQ(j.at("events_seen"), j.at("event_ids").size());
    EXPECT_EQ(j.at("model"), "tiny-qwen3");
  }
  EXPECT_EQ(profiles.size(), 10u);
  for (int u = 0; u < 10; ++u) EXPECT_EQ(profiles["u" + std::to_string(u)], 1) << "u" << u;
  std::map<size_t, int> error_lines;
  for (const auto& j : read_json_lines(out + ".errors.jsonl")) error_lines[j.at("line").get<size_t>()]++;
  EXPECT_EQ(error_lines, (std::map<size_t, int>{{4, 1}, {7, 1}, {13, 1}, {14, 1}}));
}

TEST(ProfileJob, EveryUserAccountedForAfterKillAndRerun) {
  upm::test::TempDir dir;
  const std::string logs = dir.file("logs.jsonl"), out = dir.file("profiles.jsonl");
  upm::test::write_lines(logs, mixed_logs());
  const std::string tool = upm::test::bin_dir() + "/upm-profile";
  std::vector<std::string> args = {tool,
                                   "--model",
                                   upm::test::tiny_model_dir(),
                                   "--input",
                                   logs,
                                   "--output",
                                   out,
                                   "--log-level",
                                   "warn",
                                   "--set",
                                   "generation.max_batch_sequences=1",
                                   "generation.max_new_tokens=160",
                                   "window_users=3"};
  const pid_t pid = upm::test::spawn_process(args);
  ASSERT_GE(pid, 0);
  // Kill it for real once two users are on disk.
  size_t at_kill = 0;
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 60000 && at_kill < 2; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    at_kill = count_lines(out);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_FALSE(exited) << "upm-profile finished before it could be killed (exit " << WEXITSTATUS(status) << ")";
  ASSERT_TRUE(WIFSIGNALED(status));
  const size_t after_kill = count_lines(out) + count_lines(out + ".errors.jsonl");
  EXPECT_LT(after_kill, 14u) << "the kill came too late to test resuming";
  // A kill mid-write leaves a torn line: the rerun must cut it off.
  { std::ofstream(out, std::ios::app) << R"({"user_id": "u9", "prof)"; }

  std::string command;
  for (const auto& a : args) command += "'" + a + "' ";
  ASSERT_EQ(std::system(command.c_str()), 0);
  expect_all_accounted(out);
  // A third run finds nothing to do and changes nothing.
  const std::string before = upm::test::read_text(out) + upm::test::read_text(out + ".errors.jsonl");
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(upm::test::read_text(out) + upm::test::read_text(out + ".errors.jsonl"), before);
}

TEST(ProfileJob, MaxUsersStopsEarlyAndRerunCompletes) {
  upm::test::TempDir dir;
  const std::string logs = dir.file("logs.jsonl"), out = dir.file("profiles.jsonl");
  upm::test::write_lines(logs, mixed_logs());
  upm::ProfileJobConfig config;
  config.generation.max_new_tokens = 8;
  config.generation.max_batch_sequences = 4;
  config.max_users = 5;
  auto first = upm::run_profile_job(tiny_model(), config, logs, out);
  EXPECT_TRUE(first.stopped_early);
  EXPECT_EQ(first.written + first.errors, 5);
  config.max_users = 0;
  auto second = upm::run_profile_job(tiny_model(), config, logs, out);
  EXPECT_FALSE(second.stopped_early);
  EXPECT_EQ(second.already_done, 5);
  EXPECT_EQ(first.written + second.written, 10);
  EXPECT_EQ(first.errors + second.errors, 4);
  expect_all_accounted(out);
}

TEST(ProfileJob, RanksSplitUsersIntoDisjointParts) {
  upm::test::TempDir dir;
  const std::string logs = dir.file("logs.jsonl"), out = dir.file("profiles.jsonl");
  std::vector<std::string> lines;
  for (int u = 0; u < 12; ++u) lines.push_back(user_line("user-" + std::to_string(u), 2));
  upm::test::write_lines(logs, lines);
  upm::ProfileJobConfig config;
  config.generation.max_new_tokens = 4;
  std::map<std::string, int> seen;
  for (int rank = 0; rank < 3; ++rank) {
    setenv("RANK", std::to_string(rank).c_str(), 1);
    setenv("WORLD_SIZE", "3", 1);
    auto summary = upm::run_profile_job(tiny_model(), config, logs, out);
    EXPECT_EQ(summary.output_path, out + ".rank" + std::to_string(rank) + "-of-3");
    EXPECT_EQ(summary.written + summary.other_rank, 12);
    EXPECT_GT(summary.written, 0);
    for (const auto& j : read_json_lines(summary.output_path)) seen[j.at("user_id").get<std::string>()]++;
  }
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
  EXPECT_EQ(seen.size(), 12u);
  for (const auto& [user, n] : seen) EXPECT_EQ(n, 1) << user;
}

TEST(ProfileJob, BadRankEnvironmentIsAnInputError) {
  setenv("RANK", "3", 1);
  setenv("WORLD_SIZE", "2", 1);
  upm::test::TempDir dir;
  EXPECT_THROW(upm::run_profile_job(tiny_model(), {}, dir.file("x.jsonl"), dir.file("o.jsonl")), upm::InputError);
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
}

TEST(ProfileJob, ToolExitsTwoOnAMissingModel) {
  upm::test::TempDir dir;
  const std::string command = upm::test::bin_dir() + "/upm-profile --model " + dir.file("nope") + " --input " +
                              dir.file("in.jsonl") + " --output " + dir.file("o.jsonl") + " 2>/dev/null";
  int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(ProfileJob, PathsAreConfigKeysThatTheJobRequires) {
  upm::test::TempDir dir;
  // A file of knobs alone loads (one file serves many inputs)...
  auto knobs = upm::config_from_json<upm::ProfileJobConfig>({{"max_users", 2}}, "job.json");
  EXPECT_TRUE(knobs.model.empty());
  // ...and the job names the first path still missing.
  knobs.model = upm::test::tiny_model_dir();
  UPM_EXPECT_THROW_WITH(upm::run_profile_job(knobs), upm::InputError, "input: required: give --input or --set input=");
  // The flags are the config keys: a config file holding the paths runs the same job.
  const std::string logs = dir.file("logs.jsonl");
  upm::test::write_lines(logs, {user_line("a", 2), user_line("b", 3)});
  const nlohmann::json config = {{"model", upm::test::tiny_model_dir()},
                                 {"input", logs},
                                 {"output", dir.file("from_config.jsonl")},
                                 {"generation", {{"max_new_tokens", 4}}}};
  upm::test::write_lines(dir.file("job.json"), {config.dump()});
  auto from_config = upm::test::run_tool("upm-profile", "--config " + dir.file("job.json"));
  ASSERT_EQ(from_config.code, 0) << from_config.output;
  auto from_flags = upm::test::run_tool(
      "upm-profile", "--config " + dir.file("job.json") + " --output " + dir.file("from_flags.jsonl"));
  ASSERT_EQ(from_flags.code, 0) << from_flags.output;
  auto profiles = [](const std::string& path) {
    std::vector<std::string> out;
    for (auto j : read_json_lines(path)) {
      j.erase("created_at");
      out.push_back(j.dump());
    }
    return out;
  };
  EXPECT_EQ(profiles(dir.file("from_config.jsonl")), profiles(dir.file("from_flags.jsonl")));
  EXPECT_EQ(profiles(dir.file("from_config.jsonl")).size(), 2u);
}

TEST(ProfileText, SplitsReasoningFromProfile) {
  auto a = upm::split_profile_text("  <think>likes crime\n</think>\n\nLikes crime films.  ");
  EXPECT_EQ(a.reasoning, "likes crime");
  EXPECT_EQ(a.profile, "Likes crime films.");
  EXPECT_TRUE(a.well_formed);
  auto b = upm::split_profile_text("Plain profile.");
  EXPECT_EQ(b.profile, "Plain profile.");
  EXPECT_EQ(b.reasoning, "");
  auto c = upm::split_profile_text("<think>ran out of tok");
  EXPECT_FALSE(c.well_formed);
  EXPECT_EQ(c.profile, "");
  auto d = upm::split_profile_text("reasoning begun in the prompt</think> The profile.");
  EXPECT_EQ(d.reasoning, "reasoning begun in the prompt");
  EXPECT_EQ(d.profile, "The profile.");
}

// What the profiler and the updater count as written: an unclosed block and
// an empty profile are failures with their reason.
TEST(ProfileText, WrittenProfileRejectsUnclosedAndEmpty) {
  const auto ok = upm::written_profile("<think>r</think> Likes crime.");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.text.profile, "Likes crime.");
  const auto open = upm::written_profile("<think>ran out");
  EXPECT_FALSE(open.ok);
  EXPECT_NE(open.problem.find("did not close"), std::string::npos);
  const auto empty = upm::written_profile("<think>r</think> \n ");
  EXPECT_FALSE(empty.ok);
  EXPECT_EQ(empty.problem, "the model wrote an empty profile");
}

}  // namespace
