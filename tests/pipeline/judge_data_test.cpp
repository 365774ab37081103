#include <set>

#include <gtest/gtest.h>

#include "pipeline_test_util.h"
#include "upm/data/prompt_builder.h"
#include "upm/pipeline/teach/judge_data.h"
#include "upm/text/sentences.h"

namespace upm {
namespace {

data::BenchmarkTask task(const std::string& id, int label) {
  data::BenchmarkTask t;
  t.user_id = "u1";
  t.task_id = id;
  t.context = "Which item did this user pick?";
  t.options = {"Heat | crime", "Scream | horror", "Up | comedy"};
  t.label = label;
  return t;
}

// Counts words so that the test needs no tokenizer.
data::PromptBuilder word_builder() {
  return data::PromptBuilder(data::PromptConfig{}, [](std::string_view text) { return text.size() / 4; });
}

TEST(JudgeData, RowsAreThePredictPromptAndTheShownLabelOfTheTrueOption) {
  std::vector<data::BenchmarkTask> tasks;
  for (int i = 0; i < 40; ++i) tasks.push_back(task("t" + std::to_string(i), i % 3));
  const std::string profile = "Likes crime. Dislikes horror. Prefers short answers.";
  data::UserLog log;
  log.user_id = "u1";
  JudgeDataConfig config;
  config.rows_per_task = 3;
  PredictorConfig predictor;
  auto builder = word_builder();
  std::vector<nlohmann::json> rows;
  auto report = make_judge_rows(tasks, {{"u1", profile}}, {{"u1", log}}, builder, predictor, config, rows);
  ASSERT_EQ(report.rows, 120);
  ASSERT_EQ(rows.size(), 120u);
  for (const char* input : {"full", "partial", "history", "none"}) EXPECT_GT(report.rows_by_input[input], 0) << input;
  std::set<std::string> labels;
  for (const auto& row : rows) {
    const std::string prompt = row["prompt"], completion = row["completion"], input = row["input"];
    const auto& t = tasks[std::stoi(row["task_id"].get<std::string>().substr(1))];
    // The completion names the option that is the true one in the shown order.
    ASSERT_EQ(completion.substr(0, 6), " Item ");
    const std::string line = "Item " + std::string(1, completion[6]) + ": " + t.options[t.label];
    EXPECT_NE(prompt.find(line), std::string::npos) << prompt;
    labels.insert(completion);
    if (input == "full") EXPECT_NE(prompt.find(profile), std::string::npos);
    if (input == "none") EXPECT_EQ(prompt.find("Likes"), std::string::npos);
    if (input == "partial") {
      // A proper, non-empty subset: some sentence is shown and some is left out.
      int shown_sentences = 0;
      for (const auto& s : split_sentences(profile)) shown_sentences += prompt.find(s) != std::string::npos;
      EXPECT_GT(shown_sentences, 0);
      EXPECT_LT(shown_sentences, 3);
    }
  }
  // Options are reshuffled per row: every position is a target somewhere.
  EXPECT_EQ(labels.size(), 3u);
  // Same seed, same rows.
  std::vector<nlohmann::json> again;
  make_judge_rows(tasks, {{"u1", profile}}, {{"u1", log}}, builder, predictor, config, again);
  EXPECT_EQ(again, rows);
}

TEST(JudgeData, ContinuationModeRowsEndWithTheTrueOptionsText) {
  PredictorConfig predictor;
  predictor.mode = "continuation";
  auto builder = word_builder();
  std::vector<nlohmann::json> rows;
  make_judge_rows({task("t1", 1), task("t2", 2)}, {{"u1", "Likes horror."}}, {}, builder, predictor, JudgeDataConfig{},
                  rows);
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) {
    const int label = row["task_id"] == "t1" ? 1 : 2;
    EXPECT_EQ(row["completion"], " " + task("t", label).options[label]);
  }
}

TEST(JudgeData, UsersWithoutProfileOrHistoryGetOnlyNoProfileRows) {
  JudgeDataConfig config;
  config.rows_per_task = 4;
  auto builder = word_builder();
  std::vector<nlohmann::json> rows;
  auto report = make_judge_rows({task("t1", 0)}, {}, {}, builder, PredictorConfig{}, config, rows);
  EXPECT_EQ(report.skipped_no_profile, 1);
  EXPECT_EQ(report.rows_by_input["none"], 4);
  EXPECT_EQ(report.rows, 4);
}

}  // namespace
}  // namespace upm
