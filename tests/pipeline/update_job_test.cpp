// Streaming update: new events folded once, re-application a no-op, a kill
// (max_users) resumable, long batches folded in rounds; a failed update keeps
// the previous profile (marked) and a nested line is one bad record.
#include <sys/wait.h>

#include <cstdlib>
#include <map>

#include "pipeline_test_util.h"
#include "upm/pipeline/profile/profile_state.h"
#include "upm/pipeline/profile/profiler.h"
#include "upm/pipeline/profile/updater.h"
#include "test_paths.h"

namespace {

using nlohmann::json;
using upm::test::read_json_lines;
using upm::test::tiny_model;
using upm::test::user_line;

std::map<std::string, json> by_user(const std::string& path) {
  std::map<std::string, json> out;
  for (auto& j : read_json_lines(path)) {
    const std::string user = j.at("user_id").get<std::string>();
    EXPECT_FALSE(out.count(user)) << "two records for " << user;
    out[user] = j;
  }
  return out;
}

struct Fixture {
  upm::test::TempDir dir;
  std::string profiles = dir.file("profiles.jsonl");
  std::string batch = dir.file("new.jsonl");
  upm::UpdateJobConfig config;

  Fixture() {
    config.generation.max_new_tokens = 12;
    upm::test::write_lines(dir.file("logs.jsonl"), {user_line("a", 3), user_line("b", 2), user_line("d", 2)});
    upm::run_profile_job(tiny_model(), config, dir.file("logs.jsonl"), profiles);
    // a: e3 seen + e4, e5 new; b: only seen events; c: a new user; d: absent.
    upm::test::write_lines(batch, {user_line("a", 3, "e", 3), user_line("b", 2), user_line("c", 2)});
  }
};

std::vector<std::string> ids(const json& record) { return record.at("event_ids").get<std::vector<std::string>>(); }

TEST(UpdateJob, FoldsOnlyUnseenEventsAndKeepsTheRest) {
  Fixture f;
  const auto before = by_user(f.profiles);
  const std::string out = f.dir.file("v2.jsonl");
  auto summary = upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, out);
  EXPECT_EQ(summary.errors, 0);
  const auto after = by_user(out);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after.at("a").at("version"), 2);
  EXPECT_EQ(ids(after.at("a")), (std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"}));
  EXPECT_EQ(after.at("a").at("events_seen"), 5);
  EXPECT_EQ(after.at("b"), before.at("b"));  // nothing new: byte-identical, version unchanged
  EXPECT_EQ(after.at("d"), before.at("d"));  // absent from the batch
  EXPECT_EQ(after.at("c").at("version"), 1);
  EXPECT_EQ(ids(after.at("c")), (std::vector<std::string>{"e1", "e2"}));
}

TEST(UpdateJob, ReapplyingTheSameBatchChangesNothing) {
  Fixture f;
  const std::string once = f.dir.file("once.jsonl"), twice = f.dir.file("twice.jsonl");
  upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, once);
  auto summary = upm::run_update_job(tiny_model(), f.config, once, f.batch, twice);
  EXPECT_EQ(summary.written, 4);
  EXPECT_EQ(by_user(twice), by_user(once));
}

TEST(UpdateJob, InterruptedRunResumesWithoutDuplicates) {
  Fixture f;
  const std::string out = f.dir.file("v2.jsonl"), reference = f.dir.file("ref.jsonl");
  f.config.max_users = 1;
  auto first = upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, out);
  EXPECT_TRUE(first.stopped_early);
  EXPECT_EQ(read_json_lines(out).size(), 1u);
  f.config.max_users = 0;
  upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, out);
  upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, reference);
  auto resumed = by_user(out), straight = by_user(reference);
  ASSERT_EQ(resumed.size(), 4u);
  for (auto& [user, record] : straight) {
    // Greedy generation is deterministic: the same text and ids either way.
    EXPECT_EQ(resumed.at(user).at("profile"), record.at("profile")) << user;
    EXPECT_EQ(resumed.at(user).at("event_ids"), record.at("event_ids")) << user;
    EXPECT_EQ(resumed.at(user).at("version"), record.at("version")) << user;
  }
}

TEST(UpdateJob, ManyNewEventsAreFoldedInRoundsOldestFirst) {
  Fixture f;
  upm::test::write_lines(f.batch, {user_line("a", 40, "n")});
  f.config.prompts.max_prompt_tokens = 700;  // room for a few event lines per round
  const std::string out = f.dir.file("v2.jsonl");
  auto summary = upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, out);
  EXPECT_EQ(summary.errors, 0);
  const auto after = by_user(out);
  EXPECT_EQ(after.at("a").at("version"), 2);
  auto seen = ids(after.at("a"));
  ASSERT_EQ(seen.size(), 43u);
  EXPECT_EQ(seen[3], "n1");
  EXPECT_EQ(seen.back(), "n40");
}

TEST(UpdateJob, ProfilesWithMalformedEventIdsAreRejected) {
  Fixture f;
  upm::test::write_lines(f.profiles, {R"({"user_id": "a", "profile": "p", "version": 1, "event_ids": [1, 2]})"});
  EXPECT_THROW(upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, f.dir.file("o.jsonl")),
               upm::InputError);
}

const std::string kDeepLine = R"({"user_id":"deep","events":[{"id":"e1","kind":"rating","item":"x","value":)" +
                              std::string(100000, '[') + std::string(100000, ']') + "}]}";

TEST(UpdateFailure, AFailedUpdateKeepsThePreviousProfileMarked) {
  Fixture f;
  const auto before = by_user(f.profiles);
  ASSERT_EQ(before.size(), 3u);
  // a: new events; b: a bad events record; c: new user; d: absent.
  upm::test::write_lines(
      f.batch, {user_line("a", 3, "e", 3),
                R"({"user_id": "b", "events": [{"id": "n1", "kind": "rating", "item": "x", "value": "five"}]})",
                user_line("c", 2)});
  f.config.prompts.max_prompt_tokens = 40;  // no update prompt fits: every update fails
  const std::string out = f.dir.file("v2.jsonl");
  auto summary = upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, out);
  EXPECT_EQ(summary.errors, 3);
  EXPECT_EQ(summary.kept, 2);
  EXPECT_EQ(summary.written, 1);  // d, unchanged
  const auto after = by_user(out);
  ASSERT_EQ(after.size(), 3u) << "every user the snapshot held is still there";
  EXPECT_EQ(after.at("d"), before.at("d"));
  for (const char* user : {"a", "b"}) {
    json kept = after.at(user);
    ASSERT_TRUE(kept.contains("update_failed")) << user;
    const json mark = kept["update_failed"];
    kept.erase("update_failed");
    EXPECT_EQ(kept, before.at(user)) << user << ": the previous profile, version and event ids unchanged";
    EXPECT_EQ(mark.at("file"), f.batch);
    EXPECT_TRUE(mark.contains("failed_at"));
  }
  EXPECT_NE(after.at("a")["update_failed"]["problem"].get<std::string>().find("max_prompt_tokens"), std::string::npos);
  EXPECT_EQ(after.at("a")["update_failed"]["pending_events"], 2);  // e4, e5 (e3 was seen)
  EXPECT_EQ(after.at("a")["update_failed"]["line"], 1);
  EXPECT_NE(after.at("b")["update_failed"]["problem"].get<std::string>().find("events[0].value"), std::string::npos);
  std::map<std::string, std::string> errors;
  for (const auto& e : read_json_lines(out + ".errors.jsonl")) {
    errors[e.at("user_id").get<std::string>()] = e.at("problem").get<std::string>();
  }
  EXPECT_EQ(errors.size(), 3u);
  EXPECT_NE(errors["a"].find("max_prompt_tokens"), std::string::npos);
  EXPECT_NE(errors["c"].find("max_prompt_tokens"), std::string::npos);

  // The failed users' events are still unseen: the batch applied again with
  // room to spare folds them, and the mark goes.
  f.config.prompts.max_prompt_tokens = 8192;
  const std::string again = f.dir.file("v3.jsonl");
  auto retried = upm::run_update_job(tiny_model(), f.config, out, f.batch, again);
  const auto third = by_user(again);
  ASSERT_EQ(third.size(), 4u);
  EXPECT_EQ(third.at("a").at("version"), 2);
  EXPECT_FALSE(third.at("a").contains("update_failed"));
  EXPECT_EQ(third.at("a").at("events_seen"), 5);
  EXPECT_TRUE(third.at("b").contains("update_failed")) << "its record is still unreadable";
  EXPECT_EQ(retried.kept, 1);
}

TEST(UpdateFailure, ANestedEventsLineDoesNotStopTheBatch) {
  Fixture f;
  upm::test::write_lines(f.batch, {user_line("a", 3, "e", 3), kDeepLine, user_line("c", 2)});
  const std::string out = f.dir.file("v2.jsonl");
  auto summary = upm::run_update_job(tiny_model(), f.config, f.profiles, f.batch, out);
  EXPECT_EQ(summary.errors, 1);
  const auto after = by_user(out);
  EXPECT_EQ(after.size(), 4u);
  EXPECT_EQ(after.at("a").at("version"), 2);
  EXPECT_EQ(after.at("c").at("version"), 1);
  const auto errors = read_json_lines(out + ".errors.jsonl");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("line"), 2);
  const std::string problem = errors[0].at("problem");
  EXPECT_EQ(problem.rfind(f.batch + ":2: events[0].value: nested deeper than 64 levels", 0), 0u) << problem;
  EXPECT_LT(problem.size(), f.batch.size() + 200);
}

}  // namespace

namespace {

int run_tool(const std::string& command) {
  int status = std::system((command + " --log-level warn 2>/dev/null").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(UpdateJob, PathsAreConfigKeysThatTheJobRequires) {
  upm::UpdateJobConfig config = upm::config_from_json<upm::UpdateJobConfig>({{"events", "new.jsonl"}}, "job.json");
  EXPECT_EQ(config.events, "new.jsonl");
  UPM_EXPECT_THROW_WITH(upm::run_update_job(config), upm::InputError, "model: required: give --model");
  config.model = "m";
  UPM_EXPECT_THROW_WITH(upm::run_update_job(config), upm::InputError, "profiles: required: give --profiles");
  // An update has no "input": its events are "events".
  EXPECT_THROW(upm::config_from_json<upm::UpdateJobConfig>({{"input", "x"}}, "job.json"), upm::InputError);
}

TEST(Tools, UpdateAndEvalRunEndToEnd) {
  Fixture f;
  const std::string bin = upm::test::bin_dir();
  const std::string out = f.dir.file("v2.jsonl");
  EXPECT_EQ(run_tool(bin + "/upm-update --model " + upm::test::tiny_model_dir() + " --profiles " + f.profiles +
                     " --events " + f.batch + " --output " + out + " --set generation.max_new_tokens=8"),
            0);
  EXPECT_EQ(by_user(out).size(), 4u);
  upm::test::write_lines(
      f.dir.file("bench.jsonl"),
      {R"({"user_id": "a", "task_id": "t1", "context": "Pick", "options": ["x", "y"], "label": 1})"});
  const json config = {{"benchmark", f.dir.file("bench.jsonl")},
                       {"run_dir", f.dir.file("run")},
                       {"predictors", {{{"model", upm::test::tiny_model_dir()}}}},
                       {"conditions", {{{"kind", "none"}}, {{"name", "streamed"}, {"profiles", out}}}}};
  upm::test::write_lines(f.dir.file("eval.json"), {config.dump()});
  EXPECT_EQ(run_tool(bin + "/upm-eval --config " + f.dir.file("eval.json")), 0);
  EXPECT_EQ(upm::read_json_file(f.dir.file("run/report.json")).at("results").size(), 2u);
  EXPECT_EQ(run_tool(bin + "/upm-eval --config " + f.dir.file("eval.json") + " --set nope=1"), 2);
  EXPECT_EQ(run_tool(bin + "/upm-update --model " + upm::test::tiny_model_dir() + " --profiles " +
                     f.dir.file("missing.jsonl") + " --events " + f.batch + " --output " + out),
            2);
}

}  // namespace
