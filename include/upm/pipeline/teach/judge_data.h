#pragma once
// Training rows for a predictor ("judge") model: the predict prompt exactly as
// the Predictor renders it (infer/predictor.h), and what the predictor
// scores for the option the user actually chose as the completion: its label
// (" Item A", label mode) or its text (continuation mode). Small models from
// scratch learn continuation judging much faster: copying the option whose
// words the profile names is easier than also mapping it to a letter. A small model trained
// on these rows (plus the profile rows of build-sft) is how UPM makes its own
// judge when no large instruct model is at hand (the demo's recipe does this).
//
// Each task yields `rows_per_task` rows; each row draws what the judge reads
// from a mixture: the user's full profile, a random subset of its sentences
// (so that a profile that says less still helps a little, which gives RL a
// graded signal), the raw recent history, or nothing. The option order is
// reshuffled per row so that no position is favoured.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/data/benchmark.h"
#include "upm/data/prompt_builder.h"
#include "upm/data/user_log.h"
#include "upm/infer/predictor.h"

namespace upm {

struct JudgeDataConfig {
  int64_t rows_per_task = 2;
  double full_profile_share = 0.5;     // the rest of the mixture is split as below
  double partial_profile_share = 0.3;  // a random non-empty subset of the profile's sentences
  double history_share = 0.1;          // predict_history prompt (needs the user's log)
  double none_share = 0.1;             // predict_none prompt
  uint64_t seed = 0;
};

inline void describe(ConfigIO& io, JudgeDataConfig& c) {
  io.field("rows_per_task", c.rows_per_task).at_least(1);
  io.field("full_profile_share", c.full_profile_share).at_least(0.0);
  io.field("partial_profile_share", c.partial_profile_share).at_least(0.0);
  io.field("history_share", c.history_share).at_least(0.0);
  io.field("none_share", c.none_share).at_least(0.0);
  io.field("seed", c.seed);
}

struct JudgeRowsReport {
  int64_t tasks = 0;
  int64_t rows = 0;
  int64_t skipped_no_profile = 0;                // tasks whose user has no profile
  std::map<std::string, int64_t> rows_by_input;  // full | partial | history | none
};

// Appends {"prompt", "completion", "user_id", "task_id", "input"} rows to `rows`.
// `profiles` maps user_id -> profile text; `histories` user_id -> log (may be
// empty: history rows are then not drawn).
JudgeRowsReport make_judge_rows(const std::vector<data::BenchmarkTask>& tasks,
                                const std::map<std::string, std::string>& profiles,
                                const std::map<std::string, data::UserLog>& histories,
                                const data::PromptBuilder& builder, const PredictorConfig& predictor,
                                const JudgeDataConfig& config, std::vector<nlohmann::json>& rows);

// user_id -> profile from any JSONL whose rows have both fields (truth.jsonl of
// `upm-data synth`, upm-profile output); errors name file:line:field.
std::map<std::string, std::string> read_profile_texts(const std::string& path);

// `upm-data judge-rows --config F`: the files in, the rows out (atomically).
struct JudgeRowsJob {
  std::vector<std::string> tasks;  // benchmark JSONL files (e.g. val.jsonl, test.jsonl of train users)
  std::string profiles;            // JSONL with "user_id" and "profile" (truth.jsonl, profiles.jsonl)
  std::string histories;           // user log JSONL for history rows ("" = none)
  std::string tokenizer;           // the judge's tokenizer (prompt budgets are counted in its tokens)
  std::string output;              // rows JSONL for `upm-train sft`
  data::PromptConfig prompts;
  PredictorConfig predictor;  // answer_prefix and shuffle, as the judge will be read
  JudgeDataConfig rows;
};

inline void describe(ConfigIO& io, JudgeRowsJob& c) {
  io.field("tasks", c.tasks).required();
  io.field("profiles", c.profiles).required();
  io.field("histories", c.histories);
  io.field("tokenizer", c.tokenizer).required();
  io.field("output", c.output).required();
  io.section("prompts", c.prompts);
  io.section("predictor", c.predictor);
  io.section("rows", c.rows);
}

JudgeRowsReport run_judge_rows(const JudgeRowsJob& job);

}  // namespace upm
