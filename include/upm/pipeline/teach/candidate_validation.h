#pragma once
// Validation of candidate profiles (generate-validate-merge): the predictor
// reads each candidate, and nothing (the no-profile baseline), and answers
// the user's validation tasks. A candidate is kept when
//   accuracy >= validate.min_accuracy, and
//   it beats the baseline (validate.vs_baseline):
//     accuracy         strictly higher accuracy than the no-profile prompt
//     accuracy_then_p  higher accuracy, or the same accuracy and a higher mean
//                      P(correct option) (a soft tie-break: with 3 tasks per
//                      user, equal accuracies are common)
//     none             no comparison
// A round of a user yields a target only with at least validate.min_kept kept
// candidates.
//
// The tasks a round validates on (validate.targets):
//   tasks_file  every task of the user in the tasks file, both rounds;
//   next_stage  round k on the user's tasks that lie in history stage k + 1
//               (history_stages.h; needs stages.split thirds), as the
//               published recipe validates round 1 on targets from the second
//               third and round 2 on targets from the last; a round with none
//               drops the user.
// validate.target_filter (target_filter.h) then narrows each round's tasks.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/data/benchmark.h"
#include "upm/data/event.h"
#include "upm/pipeline/teach/target_filter.h"

namespace upm {

class Predictor;

struct ValidationConfig {
  double min_accuracy = 0.5;
  std::string vs_baseline = "accuracy_then_p";  // accuracy | accuracy_then_p | none
  int64_t min_kept = 1;
  std::string targets = "tasks_file";  // tasks_file | next_stage
  TargetFilterConfig target_filter;
};

inline void describe(ConfigIO& io, ValidationConfig& c) {
  io.field("min_accuracy", c.min_accuracy).at_least(0.0).at_most(1.0);
  io.field("vs_baseline", c.vs_baseline).one_of({"accuracy", "accuracy_then_p", "none"});
  io.field("min_kept", c.min_kept).greater_than(0);
  io.field("targets", c.targets).one_of({"tasks_file", "next_stage"});
  io.section("target_filter", c.target_filter);
}

// The predictor's answers to one user's tasks under one input.
struct ValidationScore {
  std::vector<int> choices;       // per task
  std::vector<double> p_correct;  // per task
  int correct = 0;
  double accuracy = 0.0;  // correct / tasks
  double mean_p_correct = 0.0;
};

// Scores every input on `tasks` in one predictor call (each distinct input
// once); an input of nullopt is the no-profile baseline (predict_none prompt).
std::vector<ValidationScore> score_inputs(Predictor& predictor, const std::vector<data::BenchmarkTask>& tasks,
                                          const std::vector<std::optional<std::string>>& profiles);

// The predictor's answers to `tasks` from the raw `history` (the
// predict_history prompt, which keeps the newest events that fit
// prompts.max_predict_tokens), in one predictor call.
ValidationScore score_history(Predictor& predictor, const std::vector<data::BenchmarkTask>& tasks,
                              const std::vector<data::Event>& history);

// The keep rule above.
bool passes_validation(const ValidationScore& candidate, const ValidationScore& baseline,
                       const ValidationConfig& config);

}  // namespace upm
