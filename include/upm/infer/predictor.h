#pragma once
// The predictor: a frozen LM that reads the predict prompt (a profile, the raw
// recent history, or nothing, plus a task) and picks one of the task's
// options. Its probability of the correct option is the RL reward; its argmax
// is the hard choice that accuracy counts.
//
// Two modes:
//   label         (AlignXplore+ judge) options shown in a seeded random order as
//                 "Item A", "Item B", ...; the score of an option is the
//                 log-probability of its label (" Item A", or the bare letter
//                 with answer_label "letter") right after the prompt, read in
//                 one pass with the prompt computed once; P(option) = softmax
//                 over the label scores.
//   continuation  options shown the same way; the score of an option is the
//                 log-probability of its own text after the prompt (or the mean
//                 per token with length_normalize); P = softmax over scores.
// The shown order is a function of (seed, task_id) only, so it does not depend
// on batching, and every result is reported per ORIGINAL option index.
//
// calibrate: an option's score minus its score after the task's no-input
// prompt (the same options, shown the same way), so that what the option
// scores by itself (a well-known title's likelihood) cancels and only what
// the profile or history adds remains (domain-conditional PMI). With no
// input every score is then 0: P is uniform and ties go to the option shown
// first. The no-input scores are computed once per task and kept.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/data/benchmark.h"
#include "upm/data/event.h"
#include "upm/data/prompt_builder.h"

namespace upm {

struct LanguageModel;

struct PredictorConfig {
  std::string mode = "label";       // label | continuation
  bool length_normalize = false;    // continuation mode: mean log-prob per token instead of the sum
  bool shuffle_options = true;      // show options in a seeded random order (position-bias control)
  uint64_t seed = 0;                // of the option order
  std::string answer_prefix = " ";  // between "Answer:" and the label / option text
  // label mode: what follows answer_prefix, "item" ("Item A") or "letter"
  // ("A", for a judge that answers with the letter, as remote judges are read)
  std::string answer_label = "item";
  int64_t max_batch_rows = 16;  // scored options per forward pass
  bool calibrate = false;       // scores relative to the no-input prompt's (above)
};

inline void describe(ConfigIO& io, PredictorConfig& c) {
  io.field("mode", c.mode).one_of({"label", "continuation"});
  io.field("length_normalize", c.length_normalize);
  io.field("shuffle_options", c.shuffle_options);
  io.field("seed", c.seed);
  io.field("answer_prefix", c.answer_prefix);
  io.field("answer_label", c.answer_label).one_of({"item", "letter"});
  io.field("max_batch_rows", c.max_batch_rows).greater_than(0);
  io.field("calibrate", c.calibrate);
}

// What the predictor reads beside the task.
enum class PredictInput { none, history, profile };

struct PredictRequest {
  data::BenchmarkTask task;
  PredictInput input = PredictInput::profile;
  std::string profile;               // input == profile ("" reads as the empty profile)
  std::vector<data::Event> history;  // input == history, already cut to its budget
};

struct Prediction {
  std::vector<double> scores;         // per original option: label or (normalised) option log-prob
  std::vector<double> probabilities;  // per original option, softmax of scores (sums to 1)
  std::vector<int> shown_order;       // shown_order[k] = original index of the option shown k-th
  int choice = 0;                     // argmax of scores (lowest index on ties)
  double p_correct = 0.0;             // probabilities[task.label]
  bool correct = false;
  int64_t prompt_tokens = 0;
  bool prompt_fits = true;  // within prompts.max_predict_tokens
};

// Seeded order in which the options of `task_id` are shown (a permutation of
// 0..n-1; the identity when shuffle is off).
std::vector<int> shown_option_order(const std::string& task_id, size_t n, uint64_t seed, bool shuffle = true);

// The task as shown: options permuted by `order`, label mapped accordingly.
data::BenchmarkTask shown_task(const data::BenchmarkTask& task, const std::vector<int>& order);

// Softmax of `scores` (stable; sums to 1).
std::vector<double> softmax(const std::vector<double>& scores);

// What label mode scores for the option shown `k`-th, after answer_prefix:
// "Item A" or, with answer_label "letter", "A".
std::string scored_label(const PredictorConfig& config, size_t k);

// InputError unless the task has >= 2 options and a label among them.
void check_predict_task(const data::BenchmarkTask& task);

// InputError unless every predict template of `builder` lists the options
// (label mode reads labels that name listed options).
void require_listed_options(const data::PromptBuilder& builder);

// The predict prompt of `request` (its input: nothing, history or profile),
// options shown in `order`.
data::BuiltPrompt predict_prompt(const data::PromptBuilder& builder, const PredictRequest& request,
                                 const std::vector<int>& order);

class Predictor {
 public:
  // `lm` must outlive the predictor.
  Predictor(LanguageModel& lm, PredictorConfig config, data::PromptConfig prompts);

  // One prediction per request, batched.
  std::vector<Prediction> predict(const std::vector<PredictRequest>& requests);

  // The predict prompt text of `request` as the model reads it (options in shown order).
  std::string prompt_text(const PredictRequest& request, const std::vector<int>& order) const;

  const PredictorConfig& config() const { return config_; }
  const data::PromptBuilder& prompt_builder() const { return builder_; }

 private:
  LanguageModel& lm_;
  PredictorConfig config_;
  data::PromptBuilder builder_;
  // calibrate: per task, the no-input score of each original option.
  std::map<std::string, std::vector<double>> no_input_scores_;
};

}  // namespace upm
