// upm-data build-sft (generate-validate-merge) with the rule-based teacher and
// the tiny predictor: every decision recomputed by hand from the predictor's
// own per-task answers, merged targets validated again, rows built from the
// profile / update prompts, every user accounted for, kill + rerun = one run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "pipeline_test_util.h"
#include "upm/data/prompt_builder.h"
#include "upm/pipeline/teach/candidate_merge.h"
#include "upm/infer/predictor.h"
#include "upm/pipeline/teach/sft_data_builder.h"
#include "upm/text/tokenizer.h"
#include "upm/train/sft_data.h"
#include "test_paths.h"

namespace {

using nlohmann::json;
using upm::test::read_json_lines;
using upm::test::tiny_model;

// Synthetic users split into history / validation tasks in `dir`.
void write_synthetic_split(const std::string& dir, int users) {
  upm::test::write_synthetic_split(dir, {users, 5, 12, 20, 0.25});
}

upm::BuildSftConfig base_config(const std::string& dir) {
  upm::BuildSftConfig c;
  c.run_dir = dir + "/run";
  c.history = dir + "/history.jsonl";
  c.tasks = dir + "/val.jsonl";
  c.predictor.model = upm::test::tiny_model_dir();
  c.teacher.candidates = 4;
  c.merge.kind = "teacher";
  c.window_users = 3;
  return c;
}

std::map<std::string, std::vector<upm::data::BenchmarkTask>> tasks_by_user(const std::string& path) {
  std::map<std::string, std::vector<upm::data::BenchmarkTask>> out;
  for (auto& t : upm::data::read_benchmark(path)) out[t.user_id].push_back(t);
  return out;
}

// The predictor's answers, one task at a time (no batching shared with the builder).
struct HandScore {
  int correct = 0;
  double mean_p = 0;
};

HandScore by_hand(upm::Predictor& predictor, const std::vector<upm::data::BenchmarkTask>& tasks,
                  const std::string* profile) {
  HandScore s;
  for (const auto& task : tasks) {
    upm::PredictRequest r;
    r.task = task;
    r.input = profile ? upm::PredictInput::profile : upm::PredictInput::none;
    if (profile) r.profile = *profile;
    const upm::Prediction p = predictor.predict({r})[0];
    s.correct += p.choice == task.label;
    s.mean_p += p.p_correct / double(tasks.size());
  }
  return s;
}

bool keep_by_hand(const HandScore& c, const HandScore& base, size_t tasks, const upm::ValidationConfig& v) {
  if (double(c.correct) / double(tasks) < v.min_accuracy) return false;
  if (v.vs_baseline == "none") return true;
  if (c.correct != base.correct) return c.correct > base.correct;
  return v.vs_baseline == "accuracy_then_p" && c.mean_p > base.mean_p + 1e-9;
}

TEST(BuildSft, DecisionsEqualAccuraciesComputedByHand) {
  upm::test::TempDir dir;
  write_synthetic_split(dir.path(), 8);
  upm::BuildSftConfig config = base_config(dir.path());
  config.validate.min_accuracy = 0.5;
  config.merge.min_accuracy = 0.6;
  const upm::BuildSftSummary summary = upm::run_build_sft(config);
  EXPECT_EQ(summary.job.written, 8);
  EXPECT_EQ(summary.job.errors, 0);

  upm::Predictor predictor(tiny_model(), config.predictor.predictor, config.prompts);
  upm::data::PromptBuilder builder(config.prompts,
                                   [](std::string_view t) { return tiny_model().tokenizer->count_tokens(t); });
  const auto tasks = tasks_by_user(config.tasks);
  std::map<std::string, upm::data::UserLog> logs;
  for (auto& log : upm::data::read_user_logs(config.history)) logs[log.user_id] = log;
  int kept = 0, dropped = 0, merges_checked = 0, rows = 0;
  std::vector<json> expected_rows;
  for (const json& record : read_json_lines(config.run_dir + "/candidates.jsonl")) {
    const std::string user = record.at("user_id");
    const auto& user_tasks = tasks.at(user);
    ASSERT_EQ(record.at("tasks").size(), user_tasks.size());
    const HandScore base = by_hand(predictor, user_tasks, nullptr);
    EXPECT_EQ(record["baseline"]["correct"].get<int>(), base.correct) << user;
    std::string previous_target;
    for (const json& round : record.at("rounds")) {
      std::vector<std::string> profiles;
      std::vector<upm::ValidationScore> scores;
      std::vector<size_t> kept_by_hand;
      for (const json& c : round.at("candidates")) {
        ASSERT_TRUE(c.at("ok").get<bool>());
        const std::string profile = c.at("profile");
        const HandScore s = by_hand(predictor, user_tasks, &profile);
        EXPECT_EQ(c.at("correct").get<int>(), s.correct) << user << " candidate " << c["index"];
        EXPECT_NEAR(c.at("accuracy").get<double>(), double(s.correct) / double(user_tasks.size()), 1e-12);
        EXPECT_NEAR(c.at("mean_p_correct").get<double>(), s.mean_p, 1e-4);
        const bool keep = keep_by_hand(s, base, user_tasks.size(), config.validate);
        EXPECT_EQ(c.at("kept").get<bool>(), keep) << user << " candidate " << c["index"];
        keep ? ++kept : ++dropped;
        upm::ValidationScore vs;
        vs.correct = s.correct;
        vs.mean_p_correct = c.at("mean_p_correct");
        if (keep) kept_by_hand.push_back(profiles.size());
        profiles.push_back(profile);
        scores.push_back(vs);
      }
      if (kept_by_hand.empty()) {
        EXPECT_EQ(round.at("status"), "rejected");
        continue;
      }
      ASSERT_EQ(round.at("status"), "ok");
      const size_t best = upm::best_candidate(profiles, scores, kept_by_hand);
      EXPECT_EQ(round.at("best").get<size_t>(), best);
      std::string target = profiles[best];
      if (kept_by_hand.size() >= 2) {
        // Merged, validated again: the target only if it reaches merge.min_accuracy.
        const json& m = round.at("merge");
        const std::string merged = m.at("profile");
        const HandScore s = by_hand(predictor, user_tasks, &merged);
        EXPECT_EQ(m.at("correct").get<int>(), s.correct);
        const bool accepted = double(s.correct) / double(user_tasks.size()) >= config.merge.min_accuracy;
        EXPECT_EQ(m.at("accepted").get<bool>(), accepted);
        if (accepted) target = merged;
        ++merges_checked;
      } else {
        EXPECT_FALSE(round.contains("merge"));
      }
      EXPECT_EQ(round.at("target"), target);
      // The row: the prompt upm-profile (round 1) or upm-update (round 2) builds.
      const auto events = upm::data::chronological(logs.at(user).events);
      const size_t first = size_t(std::llround(0.5 * double(events.size())));
      const std::vector<upm::data::Event> stage1(events.begin(), events.begin() + long(first)),
          stage2(events.begin() + long(first), events.end());
      const std::string prompt = round.at("round") == 1 ? builder.profile(user, stage1).text
                                                        : builder.update(user, previous_target, stage2).text;
      expected_rows.push_back({{"prompt", prompt}, {"completion", target}});
      previous_target = target;
      ++rows;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(dropped, 0) << "a test that keeps everything proves nothing";
  EXPECT_GT(merges_checked, 0);
  EXPECT_EQ(read_json_lines(summary.sft_path), expected_rows);
  // upm-train sft reads the rows.
  upm::SftDataOptions options;
  options.eos = 0;
  options.max_length = 4096;
  EXPECT_EQ(upm::read_sft_file(summary.sft_path, *tiny_model().tokenizer, options).examples.size(), size_t(rows));
  const json report = upm::read_json_file(config.run_dir + "/report.json");
  EXPECT_EQ(report["users"]["input"], 8);
  EXPECT_EQ(report["rows"], rows);
  EXPECT_EQ(report["rounds"]["1"]["candidates"], 32);
  EXPECT_NEAR(report["rounds"]["1"]["pass_rate"].get<double>(), report["rounds"]["1"]["kept"].get<double>() / 32.0,
              1e-12);
}

TEST(BuildSft, EveryUserEndsWrittenOrInTheErrorsFile) {
  upm::test::TempDir dir;
  write_synthetic_split(dir.path(), 4);
  std::vector<std::string> lines;
  {
    std::ifstream in(dir.file("history.jsonl"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  lines.insert(lines.begin() + 1, "{not json");
  lines.push_back(R"({"user_id": "no-tasks", "events": [{"id": "e1", "kind": "text", "text": "hi"}]})");
  lines.push_back(R"({"user_id": "synth-1", "events": []})");  // duplicate id
  lines.push_back(R"({"user_id": "filtered-out", "events": [{"id": "e1", "kind": "text", "text": "hi"}]})");
  upm::test::write_lines(dir.file("history.jsonl"), lines);
  // A user list as data/select_users.h reads it: comments and blank lines skipped.
  upm::test::write_lines(dir.file("users.txt"),
                         {"# training users", "synth-1", "synth-2", "", "synth-3", " synth-4", "no-tasks"});
  upm::BuildSftConfig config = base_config(dir.path());
  config.users = dir.file("users.txt");
  config.merge.kind = "best_of";
  const auto summary = upm::run_build_sft(config);
  EXPECT_EQ(summary.filtered, 1);
  std::map<size_t, std::string> errors;
  for (const auto& e : read_json_lines(summary.job.errors_path)) errors[e.at("line")] = e.at("problem");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[2].find("history.jsonl:2"), std::string::npos) << errors[2];
  EXPECT_NE(errors[6].find("no validation task"), std::string::npos) << errors[6];
  EXPECT_NE(errors[7].find("duplicate user id"), std::string::npos) << errors[7];
  EXPECT_EQ(read_json_lines(summary.job.output_path).size(), 4u);
  const json report = upm::read_json_file(config.run_dir + "/report.json");
  EXPECT_EQ(report["users"]["input"], 7);
  EXPECT_EQ(report["users"]["errors"], 3);
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

std::vector<std::string> tool_args(const std::string& config, const std::string& run_dir) {
  return {upm::test::bin_dir() + "/upm-data",
          "--log-level",
          "warn",
          "build-sft",
          "--config",
          config,
          "--set",
          "run_dir=" + run_dir};
}

std::string shell(const std::vector<std::string>& args) {
  std::string command;
  for (const auto& a : args) command += "'" + a + "' ";
  return command;
}

TEST(BuildSft, KillAndRerunWritesWhatOneRunWrites) {
  upm::test::TempDir dir;
  write_synthetic_split(dir.path(), 6);
  json config = upm::config_to_json(base_config(dir.path()));
  config["window_users"] = 1;
  config["teacher"].erase("http");
  upm::test::write_lines(dir.file("config.json"), {config.dump()});

  ASSERT_EQ(std::system(shell(tool_args(dir.file("config.json"), dir.file("whole"))).c_str()), 0);

  const std::string run = dir.file("killed");
  std::vector<std::string> args = tool_args(dir.file("config.json"), run);
  const pid_t pid = upm::test::spawn_process(args);
  ASSERT_GE(pid, 0);
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 120000 && count_lines(run + "/candidates.jsonl") < 2; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_FALSE(exited) << "build-sft finished before it could be killed";
  EXPECT_LT(count_lines(run + "/candidates.jsonl"), 6u);
  { std::ofstream(run + "/candidates.jsonl", std::ios::app) << R"({"user_id": "synth-5", "rou)"; }
  ASSERT_EQ(std::system(shell(args).c_str()), 0);
  for (const char* file : {"candidates.jsonl", "sft.jsonl", "report.json", "report.md"}) {
    EXPECT_EQ(upm::test::read_text(run + "/" + file), upm::test::read_text(dir.file("whole") + "/" + file)) << file;
  }
  // A third run has nothing to do and changes nothing.
  ASSERT_EQ(std::system(shell(args).c_str()), 0);
  EXPECT_EQ(upm::test::read_text(run + "/candidates.jsonl"),
            upm::test::read_text(dir.file("whole") + "/candidates.jsonl"));
}

TEST(BuildSft, BadConfigAndInputExitTwoNamingTheFileLineAndField) {
  upm::test::TempDir dir;
  write_synthetic_split(dir.path(), 2);
  json config = upm::config_to_json(base_config(dir.path()));
  config["teacher"].erase("http");
  auto run_with = [&](json c, const std::string& extra = "") {
    upm::test::write_lines(dir.file("c.json"), {c.dump()});
    return upm::test::run_tool("upm-data", "build-sft --config " + dir.file("c.json") + " " + extra);
  };
  json typo = config;
  typo["teacher"]["candidtes"] = 3;
  auto r = run_with(typo);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("teacher.candidtes"), std::string::npos) << r.output;

  r = run_with(config, "--set validate.min_kept=9");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("validate.min_kept"), std::string::npos) << r.output;

  r = run_with(config, "--set teacher.kind=local");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("teacher.local.model"), std::string::npos) << r.output;

  upm::test::write_lines(dir.file("bad_tasks.jsonl"),
                         {R"({"user_id": "synth-1", "task_id": "t1", "options": ["a", "b"], "label": 0})",
                          R"({"user_id": "synth-1", "task_id": "t2", "options": ["a", "b"], "label": 5})"});
  json bad_tasks = config;
  bad_tasks["tasks"] = dir.file("bad_tasks.jsonl");
  r = run_with(bad_tasks);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("bad_tasks.jsonl:2: label"), std::string::npos) << r.output;

  json missing = config;
  missing["history"] = dir.file("nope.jsonl");
  r = run_with(missing);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("nope.jsonl"), std::string::npos) << r.output;
}

TEST(BuildSft, ReasoningNoteReplacesTheTeachersReasoningAndKeepsTheTargets) {
  upm::test::TempDir dir;
  write_synthetic_split(dir.path(), 4);
  upm::BuildSftConfig plain = base_config(dir.path());
  plain.merge.kind = "best_of";
  upm::BuildSftConfig noted = plain;
  noted.run_dir = dir.path() + "/noted";
  noted.output.include_reasoning = true;  // the note wins over the teacher's reasoning
  noted.output.reasoning_note = "I read the events.";
  const auto a = read_json_lines(upm::run_build_sft(plain).sft_path);
  const auto b = read_json_lines(upm::run_build_sft(noted).sft_path);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i]["prompt"], a[i]["prompt"]);
    EXPECT_EQ(b[i]["completion"].get<std::string>(),
              "<think>I read the events.</think>" + a[i]["completion"].get<std::string>());
  }
}

TEST(BuildSft, TheTeacherReadsOnlyTheEventsThePromptShows) {
  upm::test::TempDir dir;
  write_synthetic_split(dir.path(), 3);
  upm::BuildSftConfig config = base_config(dir.path());
  config.prompts.max_prompt_tokens = 700;
  config.validate.vs_baseline = "none";
  config.validate.min_accuracy = 0.0;
  upm::run_build_sft(config);
  int cut = 0;
  for (const json& record : read_json_lines(config.run_dir + "/candidates.jsonl")) {
    for (const json& round : record.at("rounds")) {
      const int shown = round.at("events").get<int>() - round.at("events_dropped").get<int>();
      cut += round.at("events_dropped").get<int>() > 0;
      const std::string reasoning = round.at("candidates")[0].at("reasoning");
      EXPECT_EQ(reasoning.rfind("Read " + std::to_string(shown) + " events", 0), 0u) << reasoning;
    }
  }
  EXPECT_GT(cut, 0) << "the budget should have cut some prompt";
}

TEST(BuildSft, AlignXplorePresetSetsItsDefaultsAndKeysStillOverride) {
  const json base = {{"run_dir", "r"},
                     {"history", "h"},
                     {"tasks", "t"},
                     {"predictor", {{"model", "m"}}},
                     {"preset", "alignxplore"},
                     {"validate", {{"min_kept", 2}}}};
  const auto c = upm::config_from_json<upm::BuildSftConfig>(base, "test");
  EXPECT_EQ(c.validate.min_accuracy, 1.0);
  EXPECT_EQ(c.validate.vs_baseline, "none");
  EXPECT_EQ(c.validate.min_kept, 2);
  EXPECT_EQ(c.merge.kind, "teacher");
  EXPECT_EQ(c.merge.min_accuracy, 0.8);
  EXPECT_TRUE(c.teacher.guiding_example);
  // The resolved config reads back to the same values.
  const auto again = upm::config_from_json<upm::BuildSftConfig>(upm::config_to_json(c), "resolved");
  EXPECT_EQ(upm::config_to_json(again), upm::config_to_json(c));
}

}  // namespace
