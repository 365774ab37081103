// The published AlignXplore+ choices of build-sft, each its own knob: history
// in thirds with round k validated on targets from the next third, the
// targets filter (what the predictor gets from the full history), and a user
// dropped when the merge stays below merge.min_accuracy. Stage cuts and the
// filter's selection are checked against hand-computed values; the runs
// against the predictor's own answers and a run without the rule.
#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "pipeline_test_util.h"
#include "upm/data/prompt_builder.h"
#include "upm/data/split.h"
#include "upm/data/synth.h"
#include "upm/infer/predictor.h"
#include "upm/pipeline/teach/history_stages.h"
#include "upm/pipeline/teach/sft_data_builder.h"
#include "upm/pipeline/teach/target_filter.h"
#include "upm/text/tokenizer.h"

namespace {

using nlohmann::json;
using upm::test::read_json_lines;
using upm::test::tiny_model;

upm::StageBounds bounds(size_t n, const std::string& split, double first_fraction = 0.5, bool update_rows = true) {
  upm::StageConfig c;
  c.split = split;
  c.first_fraction = first_fraction;
  c.update_rows = update_rows;
  return upm::stage_bounds(n, c);
}

void expect_bounds(const upm::StageBounds& b, size_t first_end, size_t second_end, const std::string& what) {
  EXPECT_EQ(b.first_end, first_end) << what;
  EXPECT_EQ(b.second_end, second_end) << what;
}

TEST(HistoryStages, ThirdsGiveTheFirstStagesTheExtraEvents) {
  expect_bounds(bounds(9, "thirds"), 3, 6, "9 = 3 + 3 + 3");
  expect_bounds(bounds(10, "thirds"), 4, 7, "10 = 4 + 3 + 3");
  expect_bounds(bounds(11, "thirds"), 4, 8, "11 = 4 + 4 + 3");
  expect_bounds(bounds(12, "thirds"), 4, 8, "12 = 4 + 4 + 4");
  expect_bounds(bounds(2, "thirds"), 1, 2, "2 = 1 + 1 + 0");
  expect_bounds(bounds(1, "thirds"), 1, 1, "1 = 1 + 0 + 0");
  expect_bounds(bounds(0, "thirds"), 0, 0, "nothing");
  // Thirds ignore first_fraction.
  expect_bounds(bounds(10, "thirds", 0.9), 4, 7, "first_fraction");
}

TEST(HistoryStages, HalvesCutAtTheFirstFraction) {
  expect_bounds(bounds(10, "halves"), 5, 10, "10 at 0.5");
  expect_bounds(bounds(7, "halves"), 4, 7, "7 at 0.5 rounds 3.5 up");
  expect_bounds(bounds(5, "halves", 0.9), 4, 5, "stage 2 keeps one event");
  expect_bounds(bounds(5, "halves", 0.1), 1, 5, "stage 1 keeps one event");
  expect_bounds(bounds(1, "halves"), 1, 1, "one event: stage 1 only");
  expect_bounds(bounds(10, "halves", 0.5, false), 10, 10, "update_rows false: the whole history");
}

TEST(HistoryStages, ATaskLiesInTheStageHoldingAllItsEvents) {
  std::vector<upm::data::Event> events;
  for (int i = 1; i <= 10; ++i) {
    upm::data::Event e;
    e.id = "e" + std::to_string(i);
    events.push_back(e);
  }
  auto task = [](json ids) {
    upm::data::BenchmarkTask t;
    if (!ids.is_null()) t.extra["event_ids"] = ids;
    return t;
  };
  const std::vector<upm::data::BenchmarkTask> tasks = {
      task({"e5"}),  task({"e4"}),  task({"e8", "e10"}), task({"e7", "e8"}),  task(json::array()),
      task(nullptr), task({"e99"}), task({"e1", "e4"}),  task({"e5", "e99"}),
  };
  // 10 events in thirds: e1-e4 | e5-e7 | e8-e10.
  EXPECT_EQ(upm::task_stages(tasks, events, bounds(10, "thirds")), (std::vector<int>{2, 1, 3, 0, 0, 0, 0, 1, 0}));
  // Halves: e1-e5 | e6-e10.
  EXPECT_EQ(upm::task_stages(tasks, events, bounds(10, "halves")), (std::vector<int>{1, 1, 2, 2, 0, 0, 0, 1, 0}));
}

TEST(TargetFilter, KeepsTheFirstTargetsAnsweredRightAboveMinP) {
  const std::vector<bool> correct = {true, true, false, true, true, true, true, true};
  const std::vector<double> p = {0.95, 0.9, 0.97, 0.91, 0.5, 0.99, 0.999, 0.93};
  upm::TargetFilterConfig c;  // min_p 0.9, at most 5
  // 1: exactly 0.9 is not above it; 2: wrong however sure; 4: unsure.
  EXPECT_EQ(upm::select_targets(correct, p, c), (std::vector<size_t>{0, 3, 5, 6, 7}));
  c.max_targets = 3;
  EXPECT_EQ(upm::select_targets(correct, p, c), (std::vector<size_t>{0, 3, 5}));
  c.min_p = 0.95;
  EXPECT_EQ(upm::select_targets(correct, p, c), (std::vector<size_t>{5, 6}));
  c.min_p = 0.9999;
  EXPECT_TRUE(upm::select_targets(correct, p, c).empty());
}

json base_json() { return {{"run_dir", "r"}, {"history", "h"}, {"tasks", "t"}, {"predictor", {{"model", "m"}}}}; }

TEST(BuildSft, AlignXplorePresetSetsEveryPublishedValue) {
  json with_preset = base_json();
  with_preset["preset"] = "alignxplore";
  const auto c = upm::config_from_json<upm::BuildSftConfig>(with_preset, "test");
  EXPECT_EQ(c.stages.split, "thirds");
  EXPECT_TRUE(c.stages.update_rows);
  EXPECT_EQ(c.validate.targets, "next_stage");
  EXPECT_TRUE(c.validate.target_filter.enabled);
  EXPECT_EQ(c.validate.target_filter.min_p, 0.9);
  EXPECT_EQ(c.validate.target_filter.max_targets, 5);
  EXPECT_EQ(c.validate.target_filter.min_targets, 3);
  EXPECT_EQ(c.validate.min_accuracy, 1.0);
  EXPECT_EQ(c.validate.vs_baseline, "none");
  EXPECT_EQ(c.validate.min_kept, 3);
  EXPECT_EQ(c.merge.kind, "teacher");
  EXPECT_EQ(c.merge.min_accuracy, 0.8);
  EXPECT_EQ(c.merge.below_threshold, "drop_user");
  EXPECT_TRUE(c.teacher.guiding_example);

  // Without the preset every new knob keeps the earlier behaviour.
  const auto d = upm::config_from_json<upm::BuildSftConfig>(base_json(), "test");
  EXPECT_EQ(d.stages.split, "halves");
  EXPECT_EQ(d.validate.targets, "tasks_file");
  EXPECT_FALSE(d.validate.target_filter.enabled);
  EXPECT_EQ(d.merge.below_threshold, "best_single");

  json halves = with_preset;
  halves["stages"] = {{"split", "halves"}};
  UPM_EXPECT_THROW_WITH(upm::config_from_json<upm::BuildSftConfig>(halves, "test"), upm::InputError,
                        "validate.targets");
  json filter = base_json();
  filter["validate"] = {{"target_filter", {{"min_targets", 6}}}};
  UPM_EXPECT_THROW_WITH(upm::config_from_json<upm::BuildSftConfig>(filter, "test"), upm::InputError,
                        "validate.target_filter.min_targets");
}

upm::BuildSftConfig run_config(const std::string& dir, const std::string& run) {
  upm::BuildSftConfig c;
  c.run_dir = dir + "/" + run;
  c.history = dir + "/history.jsonl";
  c.tasks = dir + "/val.jsonl";
  c.predictor.model = upm::test::tiny_model_dir();
  c.teacher.candidates = 3;
  c.window_users = 3;
  return c;
}

std::map<std::string, json> by_user(const std::string& path) {
  std::map<std::string, json> out;
  for (const json& r : read_json_lines(path)) out[r.at("user_id")] = r;
  return out;
}

std::vector<std::string> ids_of(const std::vector<upm::data::BenchmarkTask>& tasks) {
  std::vector<std::string> ids;
  for (const auto& t : tasks) ids.push_back(t.task_id);
  return ids;
}

upm::Prediction predict_one(upm::Predictor& predictor, const upm::data::BenchmarkTask& task, upm::PredictInput input,
                            const std::string& profile = "", const std::vector<upm::data::Event>& history = {}) {
  upm::PredictRequest r;
  r.task = task;
  r.input = input;
  r.profile = profile;
  r.history = history;
  return predictor.predict({r})[0];
}

// Synthetic users whose tasks are made from their own history's events
// (all but the first 10%), plus "early", whose two tasks lie in its first
// third; DIR/history.jsonl, DIR/val.jsonl.
struct StagedData {
  std::vector<upm::data::UserLog> logs;
  std::vector<upm::data::BenchmarkTask> tasks;
};

StagedData write_staged_data(const upm::test::TempDir& dir, int users, uint64_t seed) {
  upm::data::SynthConfig synth;
  synth.users = users;
  synth.seed = seed;
  synth.min_events = 18;
  synth.max_events = 26;
  auto logs = upm::data::make_synthetic_world(synth).logs;
  // Tasks made from the history's own events: everything after the first 10%.
  upm::data::SplitConfig split;
  split.val_fraction = 0.9;
  split.test_fraction = 0.0;
  split.eval_user_fraction = 0.0;
  const auto parts = upm::data::split_logs(logs, split);
  auto tasks = parts.val;
  // A user whose only tasks lie in its first third: round 1 has no target.
  upm::data::UserLog early;
  early.user_id = "early";
  for (int i = 1; i <= 6; ++i) {
    upm::data::Event e;
    e.id = "e" + std::to_string(i);
    e.kind = upm::data::EventKind::text;
    e.text = "note " + std::to_string(i);
    early.events.push_back(e);
  }
  logs.push_back(early);
  for (const char* id : {"e1", "e2"}) {
    upm::data::BenchmarkTask t;
    t.user_id = "early";
    t.task_id = std::string("early-") + id;
    t.options = {"a", "b"};
    t.extra["event_ids"] = {id};
    tasks.push_back(t);
  }
  upm::data::write_user_logs(dir.file("history.jsonl"), logs);
  upm::data::write_benchmark(dir.file("val.jsonl"), tasks);
  return {logs, tasks};
}

constexpr int kWeakMergeUsers = 8;
constexpr double kWeakMergeMin = 0.5;

TEST(BuildSft, WeakMergeDropsTheUserWithNoRow) {
  // Rounds validated on different targets (the next thirds), so that a merge
  // can pass round 1 and fail round 2.
  upm::test::TempDir dir;
  const StagedData data = write_staged_data(dir, kWeakMergeUsers, 3);
  const int users = int(data.logs.size());
  // Every ok candidate is kept, so every round with two or more merges.
  upm::BuildSftConfig fallback = run_config(dir.path(), "fallback");
  fallback.stages.split = "thirds";
  fallback.validate.targets = "next_stage";
  fallback.validate.min_accuracy = 0.0;
  fallback.validate.vs_baseline = "none";
  fallback.merge.kind = "teacher";
  fallback.merge.min_accuracy = kWeakMergeMin;
  upm::BuildSftConfig dropping = fallback;
  dropping.run_dir = dir.path() + "/dropping";
  dropping.merge.below_threshold = "drop_user";
  upm::run_build_sft(fallback);
  const upm::BuildSftSummary summary = upm::run_build_sft(dropping);
  const auto before = by_user(fallback.run_dir + "/candidates.jsonl");
  const auto after = by_user(dropping.run_dir + "/candidates.jsonl");
  ASSERT_EQ(before.size(), size_t(users));
  ASSERT_EQ(after.size(), size_t(users));

  int dropped = 0, kept = 0, too_few = 0;
  std::set<int> weak_rounds;
  size_t rows = 0;
  for (const auto& [user, b] : before) {
    const json& a = after.at(user);
    if (b.contains("dropped")) {  // no targets: dropped before any merge, in both runs
      EXPECT_EQ(a, b) << user;
      ++too_few;
      continue;
    }
    // The first round whose merge stayed below the threshold (computed again from its accuracy).
    int weak = 0;
    for (const json& round : b.at("rounds")) {
      if (!round.contains("merge")) continue;
      const json& m = round.at("merge");
      const bool below = !m.at("ok").get<bool>() || m.at("accuracy").get<double>() < kWeakMergeMin;
      EXPECT_EQ(m.at("accepted").get<bool>(), !below) << user;
      if (below) {
        weak = round.at("round");
        break;
      }
    }
    if (weak == 0) {
      EXPECT_EQ(a, b) << user << ": no weak merge, the same record";
      rows += a.at("rows").size();
      kept += a.at("status") == "ok";
      continue;
    }
    ++dropped;
    weak_rounds.insert(weak);
    EXPECT_EQ(a.at("status"), "rejected") << user;
    EXPECT_EQ(a.at("dropped"), "merge_below_threshold") << user;
    EXPECT_TRUE(a.at("rows").empty()) << user;
    const std::string reason = a.at("reason");
    EXPECT_EQ(reason.rfind("round " + std::to_string(weak) + ": merged profile accuracy", 0), 0u) << reason;
    EXPECT_NE(reason.find("merge.below_threshold drop_user"), std::string::npos) << reason;
    ASSERT_EQ(a.at("rounds").size(), size_t(weak)) << user << ": no round after the weak one";
    const json& last = a.at("rounds").back();
    EXPECT_EQ(last.at("status"), "rejected");
    EXPECT_EQ(last.at("reason"), reason);
    EXPECT_FALSE(last.at("merge").at("accepted").get<bool>());
    if (weak == 2) EXPECT_EQ(a.at("rounds")[0], b.at("rounds")[0]) << user;
  }
  EXPECT_EQ(weak_rounds, (std::set<int>{1, 2})) << "the data should have weak merges in round 1 and in round 2";
  EXPECT_GT(kept, 0) << "the data should have a user whose merges pass";
  EXPECT_EQ(read_json_lines(summary.sft_path).size(), rows);
  const json report = upm::read_json_file(dropping.run_dir + "/report.json");
  EXPECT_EQ(report["users"]["input"], users);
  EXPECT_EQ(report["users"]["rejected"].get<int>(), users - kept);
  EXPECT_EQ(report["users"]["dropped"]["too_few_targets"], too_few);
  EXPECT_EQ(report["users"]["dropped"]["merge_below_threshold"], dropped);
  EXPECT_EQ(report["rows"].get<size_t>(), rows);
  EXPECT_NE(upm::test::read_text(dropping.run_dir + "/report.md")
                .find("| merge_below_threshold | " + std::to_string(dropped) + " |"),
            std::string::npos);
  // The fallback run drops users only for their targets.
  const json fallback_report = upm::read_json_file(fallback.run_dir + "/report.json");
  EXPECT_EQ(fallback_report["users"]["dropped"], json({{"too_few_targets", too_few}}));
}

TEST(BuildSft, NextStageValidatesEachRoundOnTheFollowingThird) {
  upm::test::TempDir dir;
  const auto [logs, tasks] = write_staged_data(dir, 4, 11);

  upm::BuildSftConfig config = run_config(dir.path(), "run");
  config.stages.split = "thirds";
  config.validate.targets = "next_stage";
  config.validate.min_accuracy = 0.0;
  config.validate.vs_baseline = "none";
  const upm::BuildSftSummary summary = upm::run_build_sft(config);
  EXPECT_EQ(summary.job.written, 5);
  EXPECT_EQ(summary.job.errors, 0);

  upm::Predictor predictor(tiny_model(), config.predictor.predictor, config.prompts);
  upm::data::PromptBuilder builder(config.prompts,
                                   [](std::string_view t) { return tiny_model().tokenizer->count_tokens(t); });
  std::map<std::string, std::vector<upm::data::BenchmarkTask>> user_tasks;
  for (const auto& t : tasks) user_tasks[t.user_id].push_back(t);
  const auto records = by_user(config.run_dir + "/candidates.jsonl");
  ASSERT_EQ(records.size(), 5u);
  int with_rows = 0, rows = 0;
  std::map<std::string, std::array<std::vector<upm::data::BenchmarkTask>, 2>> later;  // tasks in thirds 2, 3
  for (const auto& log : logs) {
    const json& record = records.at(log.user_id);
    const auto events = upm::data::chronological(log.events);
    // Thirds by hand: sizes n/3, the first n mod 3 of them one longer.
    const size_t n = events.size(), q = n / 3, r = n % 3;
    const size_t end1 = q + (r > 0), end2 = end1 + q + (r > 1);
    std::map<std::string, int> third;
    for (size_t i = 0; i < n; ++i) third[events[i].id] = i < end1 ? 1 : i < end2 ? 2 : 3;
    std::vector<upm::data::BenchmarkTask> in2, in3;
    for (const auto& t : user_tasks[log.user_id]) {
      std::set<int> at;
      for (const auto& id : t.extra.at("event_ids")) at.insert(third.at(id.get<std::string>()));
      if (at == std::set<int>{2}) in2.push_back(t);
      if (at == std::set<int>{3}) in3.push_back(t);
    }
    later[log.user_id] = {in2, in3};
    if (in2.empty() || in3.empty()) {
      EXPECT_EQ(record.at("status"), "rejected") << log.user_id;
      EXPECT_EQ(record.at("dropped"), "too_few_targets") << log.user_id;
      EXPECT_EQ(record.at("reason"), in2.empty() ? "round 1 has 0 validation targets (tasks in stage 2 of the "
                                                   "history), needs 1"
                                                 : "round 2 has 0 validation targets (tasks in stage 3 of the "
                                                   "history), needs 1");
      EXPECT_TRUE(record.at("rounds").empty());
      continue;
    }
    const std::vector<upm::data::Event> third1(events.begin(), events.begin() + long(end1)),
        third2(events.begin() + long(end1), events.begin() + long(end2));
    std::string previous;
    for (const json& round : record.at("rounds")) {
      const int k = round.at("round");
      const auto& targets = k == 1 ? in2 : in3;
      EXPECT_EQ(round.at("tasks").get<std::vector<std::string>>(), ids_of(targets)) << log.user_id << " round " << k;
      EXPECT_EQ(round.at("events").get<size_t>(), k == 1 ? third1.size() : third2.size());
      // Candidate 0 and the baseline were scored on this round's targets.
      const std::string profile = round.at("candidates")[0].at("profile");
      int correct = 0, base = 0;
      for (const auto& t : targets) {
        correct += predict_one(predictor, t, upm::PredictInput::profile, profile).correct;
        base += predict_one(predictor, t, upm::PredictInput::none).correct;
      }
      EXPECT_EQ(round.at("candidates")[0].at("correct").get<int>(), correct) << log.user_id << " round " << k;
      EXPECT_EQ(round.at("baseline").at("correct").get<int>(), base) << log.user_id << " round " << k;
      if (round.at("status") != "ok") break;
      const std::string prompt =
          k == 1 ? builder.profile(log.user_id, third1).text : builder.update(log.user_id, previous, third2).text;
      EXPECT_EQ(record.at("rows")[size_t(k - 1)].at("prompt"), prompt);
      previous = round.at("target");
      ++rows;
    }
    with_rows += record.at("status") == "ok";
  }
  EXPECT_GT(with_rows, 0) << "some synthetic user should have targets in both later thirds";
  EXPECT_EQ(records.at("early").at("dropped"), "too_few_targets");
  const json report = upm::read_json_file(config.run_dir + "/report.json");
  EXPECT_EQ(report["users"]["with_rows"], with_rows);
  EXPECT_EQ(report["users"]["dropped"]["too_few_targets"].get<int>(), 5 - with_rows);
  EXPECT_EQ(report["rows"], rows);

  // With the filter too: each round's targets are those of its third that
  // the predictor answers right from the history, the first two.
  upm::BuildSftConfig both = config;
  both.run_dir = dir.file("both");
  both.validate.target_filter = {true, 0.5, 2, 1};
  upm::run_build_sft(both);
  int checked = 0;
  for (const auto& [user, record] : by_user(both.run_dir + "/candidates.jsonl")) {
    if (user == "early") continue;
    const auto& [in2, in3] = later.at(user);
    std::vector<upm::data::BenchmarkTask> scored;
    for (const auto& t : user_tasks[user]) {
      if (std::find_if(in2.begin(), in2.end(), [&](const auto& x) { return x.task_id == t.task_id; }) != in2.end() ||
          std::find_if(in3.begin(), in3.end(), [&](const auto& x) { return x.task_id == t.task_id; }) != in3.end())
        scored.push_back(t);
    }
    const json& h = record.at("history_score");
    ASSERT_EQ(h.at("tasks").get<std::vector<std::string>>(), ids_of(scored)) << user;
    std::map<std::string, bool> passes;
    for (size_t i = 0; i < scored.size(); ++i) {
      passes[scored[i].task_id] = h.at("choices")[i] == scored[i].label && h.at("p_correct")[i].get<double>() > 0.5;
    }
    std::array<std::vector<std::string>, 2> expected;
    for (size_t k = 0; k < 2; ++k) {
      for (const auto& t : later.at(user)[k]) {
        if (passes[t.task_id] && expected[k].size() < 2) expected[k].push_back(t.task_id);
      }
    }
    if (expected[0].empty() || expected[1].empty()) {
      EXPECT_EQ(record.at("dropped"), "too_few_targets") << user;
      continue;
    }
    for (const json& round : record.at("rounds")) {
      EXPECT_EQ(round.at("tasks").get<std::vector<std::string>>(), expected[round.at("round").get<size_t>() - 1])
          << user;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "some user should keep targets in both thirds";
}

TEST(BuildSft, TargetFilterKeepsWhatThePredictorGetsFromTheFullHistory) {
  upm::test::TempDir dir;
  upm::test::write_synthetic_split(dir.path(), {6, 5, 12, 20, 0.3});
  upm::BuildSftConfig config = run_config(dir.path(), "run");
  config.validate.min_accuracy = 0.0;
  config.validate.vs_baseline = "none";
  config.validate.target_filter.enabled = true;
  config.validate.target_filter.min_p = 0.55;
  config.validate.target_filter.max_targets = 2;
  config.validate.target_filter.min_targets = 2;
  upm::run_build_sft(config);

  upm::Predictor predictor(tiny_model(), config.predictor.predictor, config.prompts);
  std::map<std::string, std::vector<upm::data::BenchmarkTask>> user_tasks;
  for (const auto& t : upm::data::read_benchmark(config.tasks)) user_tasks[t.user_id].push_back(t);
  const auto records = by_user(config.run_dir + "/candidates.jsonl");
  ASSERT_EQ(records.size(), 6u);
  int dropped = 0, filtered = 0;
  for (const auto& log : upm::data::read_user_logs(config.history)) {
    const json& record = records.at(log.user_id);
    const auto& tasks = user_tasks.at(log.user_id);
    const json& h = record.at("history_score");
    ASSERT_EQ(h.at("tasks").get<std::vector<std::string>>(), ids_of(tasks));
    std::vector<upm::data::BenchmarkTask> expected;
    for (size_t i = 0; i < tasks.size(); ++i) {
      const upm::Prediction p =
          predict_one(predictor, tasks[i], upm::PredictInput::history, "", upm::data::chronological(log.events));
      EXPECT_NEAR(h.at("p_correct")[i].get<double>(), p.p_correct, 1e-4) << log.user_id << " " << tasks[i].task_id;
      if (p.correct && p.p_correct > 0.55 && expected.size() < 2) expected.push_back(tasks[i]);
    }
    if (expected.size() < 2) {
      ++dropped;
      EXPECT_EQ(record.at("status"), "rejected") << log.user_id;
      EXPECT_EQ(record.at("dropped"), "too_few_targets") << log.user_id;
      EXPECT_EQ(record.at("reason"), "round 1 has " + std::to_string(expected.size()) +
                                         " validation targets (tasks that the predictor answers right from the full "
                                         "history with P > 0.550), needs 2");
      EXPECT_TRUE(record.at("rounds").empty());
      continue;
    }
    ++filtered;
    ASSERT_FALSE(record.at("rounds").empty());
    for (const json& round : record.at("rounds")) {
      EXPECT_EQ(round.at("tasks").get<std::vector<std::string>>(), ids_of(expected)) << log.user_id;
      EXPECT_EQ(round.at("baseline").at("choices").size(), 2u);
    }
  }
  EXPECT_GT(dropped, 0) << "a filter that keeps every user proves little";
  EXPECT_GT(filtered, 0) << "a filter that drops every user proves little";
  const json report = upm::read_json_file(config.run_dir + "/report.json");
  EXPECT_EQ(report["users"]["dropped"]["too_few_targets"], dropped);
  EXPECT_FALSE(report["users"]["dropped"].contains("merge_below_threshold"));
}

}  // namespace
