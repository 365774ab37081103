#pragma once
// SFT data by generate-validate-merge (`upm-data build-sft --config F`), the
// AlignXplore+ recipe:
//   stages    each user's history (chronological) is cut in stages
//             (history_stages.h): halves at stages.first_fraction, or thirds;
//             with stages.update_rows false only round 1 runs;
//   targets   each round's validation tasks: the user's tasks in TASKS, or
//             those in the next stage of the history (validate.targets), then
//             optionally only those the predictor already answers from the
//             full history (validate.target_filter, target_filter.h); a user
//             left with too few is dropped before the teacher is asked;
//   round 1   the teacher writes K candidates from the profile prompt over
//             stage 1 (the very prompt upm-profile builds, configs/prompts/
//             profile.txt, so training and inference prompts match);
//   validate  the predictor answers the round's targets from each candidate
//             and from nothing; candidate_validation.h decides which are kept;
//   merge     candidate_merge.h makes the target (best_of, or a teacher merge
//             validated again; below merge.min_accuracy it falls back to
//             best_of or drops the user, merge.below_threshold);
//   round 2   with the round-1 target as the previous profile, the teacher
//             writes candidates from the update prompt (update.txt, the
//             streaming updater's) over stage 2; validate and merge again.
// Each round with a target gives one SFT row, {"prompt", "completion"} or
// {"messages": [user, assistant]} (output.format), read by `upm-train sft`.
// A dropped user gives no row, not even round 1's.
//
// RUN_DIR gets
//   config.json              the resolved config
//   candidates.jsonl         one record per user: every candidate with its
//                            reasoning, per-task choices and scores, what was
//                            kept, merged and chosen, and the user's rows; a
//                            dropped user's record says which rule dropped it
//   candidates.jsonl.errors.jsonl   users that could not be built (bad record,
//                            no events, no validation task, prompt over budget)
//   sft.jsonl                the rows, in input order (rewritten atomically at the end)
//   report.json, report.md   counts, pass rates, accuracies (sft_report.h)
// Every input user ends in candidates.jsonl (with rows, or "rejected" with the
// reason) or in the errors file. Records are appended and fsync'ed one user at
// a time; rerunning the same config resumes where a kill stopped, and since a
// user's candidates depend only on the user (seeded per user and round, one
// predictor call per user and step), the files equal those of an
// uninterrupted run.

#include <cstdint>
#include <string>

#include "upm/core/config.h"
#include "upm/data/prompt_config.h"
#include "upm/pipeline/teach/candidate_merge.h"
#include "upm/pipeline/eval/evaluator.h"
#include "upm/pipeline/job_output.h"
#include "upm/pipeline/teach/candidate_validation.h"
#include "upm/pipeline/teach/history_stages.h"
#include "upm/pipeline/teach/teacher_config.h"

namespace upm {

struct SftOutputConfig {
  std::string format = "prompt_completion";  // prompt_completion | messages
  bool include_reasoning = false;  // completion = "<think>reasoning</think>\n\nprofile" when there is reasoning
  // When set, "<think>reasoning_note</think>profile" for every row instead: a
  // small writer cannot learn the teacher's long reasoning, but keeps the format.
  std::string reasoning_note;
};

inline void describe(ConfigIO& io, SftOutputConfig& c) {
  io.field("format", c.format).one_of({"prompt_completion", "messages"});
  io.field("include_reasoning", c.include_reasoning);
  io.field("reasoning_note", c.reasoning_note);
}

struct BuildSftConfig {
  std::string run_dir;  // outputs (see above)
  std::string history;  // user log: the events profiles are written from (split's history.jsonl)
  std::string tasks;    // benchmark: validation tasks (split's val.jsonl)
  std::string users;    // "" = every user; else a file of user ids, one a line (users_train.txt)
  // "alignxplore": the published recipe's choices, applied before the other
  // keys (which still override): history in thirds, round k validated on
  // targets from the next third, only targets the predictor gets from the
  // full history with P > 0.9 (3 to 5 a round), keep candidates that get
  // every target right, no baseline comparison, at least 3 kept, a teacher
  // merge that must reach 0.8 or the user is dropped, a guiding example for
  // LM teachers.
  std::string preset;
  PredictorSpec predictor;
  TeacherConfig teacher;
  StageConfig stages;
  ValidationConfig validate;
  MergeConfig merge;
  SftOutputConfig output;
  data::PromptConfig prompts;
  std::string tokenizer;      // counts prompt tokens for prompts.max_prompt_tokens; "" = the predictor's
  int64_t window_users = 16;  // users whose teacher requests go out together
  int64_t max_users = 0;      // stop after this many new users (0 = all)
};

void apply_preset(BuildSftConfig& c);

inline void describe(ConfigIO& io, BuildSftConfig& c) {
  io.field("preset", c.preset).one_of({"", "alignxplore"});
  if (io.reading()) apply_preset(c);
  io.field("run_dir", c.run_dir).required();
  io.field("history", c.history).required();
  io.field("tasks", c.tasks).required();
  io.field("users", c.users);
  io.section("predictor", c.predictor);
  io.section("teacher", c.teacher);
  io.section("stages", c.stages);
  io.section("validate", c.validate);
  io.section("merge", c.merge);
  io.section("output", c.output);
  io.section("prompts", c.prompts);
  io.field("tokenizer", c.tokenizer);
  io.field("window_users", c.window_users).greater_than(0);
  io.field("max_users", c.max_users).at_least(0);
  if (io.reading() && c.validate.min_kept > c.teacher.candidates) {
    io.fail("validate.min_kept", "must be <= teacher.candidates (" + std::to_string(c.teacher.candidates) + ")");
  }
  if (io.reading() && c.validate.targets == "next_stage" && c.stages.split != "thirds") {
    io.fail("validate.targets",
            "next_stage needs stages.split: thirds (round 2's targets come from the third stage, which halves lack)");
  }
}

struct BuildSftSummary {
  JobSummary job;
  int64_t filtered = 0;  // input users not in `users`
  std::string sft_path, report_path;
};

BuildSftSummary run_build_sft(const BuildSftConfig& config);

}  // namespace upm
