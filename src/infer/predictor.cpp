#include "upm/infer/predictor.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "upm/core/error.h"
#include "upm/core/random.h"
#include "upm/infer/scorer.h"
#include "upm/infer/language_model.h"
#include "upm/text/tokenizer.h"

namespace upm {

std::vector<int> shown_option_order(const std::string& task_id, size_t n, uint64_t seed, bool shuffle) {
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle) return order;
  seeded_shuffle(order, sequence_seed(seed, stable_hash(task_id)));
  return order;
}

data::BenchmarkTask shown_task(const data::BenchmarkTask& task, const std::vector<int>& order) {
  data::BenchmarkTask shown = task;
  for (size_t k = 0; k < order.size(); ++k) {
    shown.options[k] = task.options[order[k]];
    if (order[k] == task.label) shown.label = int(k);
  }
  return shown;
}

std::vector<double> softmax(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  const double top = *std::max_element(scores.begin(), scores.end());
  std::vector<double> p(scores.size());
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i) total += p[i] = std::exp(scores[i] - top);
  for (double& v : p) v /= total;
  return p;
}

Predictor::Predictor(LanguageModel& lm, PredictorConfig config, data::PromptConfig prompts)
    : lm_(lm),
      config_(std::move(config)),
      builder_(std::move(prompts), [&lm](std::string_view text) { return lm.tokenizer->count_tokens(text); }) {
  if (config_.mode == "label" && !builder_.lists_options()) {
    throw InputError(Location{builder_.config().template_path(builder_.config().predict_template), 0, "options"},
                     "predictor mode \"label\" needs {{options}} in every predict template (the labels name listed "
                     "options); templates without it are for mode \"continuation\"");
  }
}

std::string Predictor::prompt_text(const PredictRequest& request, const std::vector<int>& order) const {
  const data::BenchmarkTask shown = shown_task(request.task, order);
  switch (request.input) {
    case PredictInput::none: return builder_.predict_none(shown).text;
    case PredictInput::history: return builder_.predict_history(shown, request.history).text;
    case PredictInput::profile: break;
  }
  return builder_.predict(shown, request.profile).text;
}

std::vector<Prediction> Predictor::predict(const std::vector<PredictRequest>& requests) {
  const bool label_mode = config_.mode == "label";
  std::vector<ScoringRequest> groups(requests.size());
  std::vector<Prediction> out(requests.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    const data::BenchmarkTask& task = requests[r].task;
    if (task.options.size() < 2 || task.label < 0 || task.label >= int(task.options.size())) {
      throw InputError(Location{"", 0, "task " + task.task_id}, "needs >= 2 options and a label among them");
    }
    Prediction& p = out[r];
    p.shown_order = shown_option_order(task.task_id, task.options.size(), config_.seed, config_.shuffle_options);
    const std::string text = prompt_text(requests[r], p.shown_order);
    groups[r].context = encode_prompt(lm_, text);
    p.prompt_tokens = int64_t(groups[r].context.size());
    p.prompt_fits = p.prompt_tokens <= builder_.config().max_predict_tokens;
    for (size_t k = 0; k < task.options.size(); ++k) {
      const std::string& shown = label_mode ? data::option_label(k) : task.options[p.shown_order[k]];
      groups[r].options.push_back(encode_continuation(lm_, config_.answer_prefix + shown));
    }
  }
  ScoringConfig scoring;
  scoring.max_batch_sequences = config_.max_batch_rows;
  const auto scores = score_options(*lm_.model, groups, scoring);

  for (size_t r = 0; r < requests.size(); ++r) {
    Prediction& p = out[r];
    const size_t n = p.shown_order.size();
    p.scores.assign(n, 0.0);
    for (size_t k = 0; k < n; ++k) {
      const auto& lp = scores[r][k].token_logprobs;
      double sum = std::accumulate(lp.begin(), lp.end(), 0.0);
      if (!label_mode && config_.length_normalize) sum /= double(lp.size());
      p.scores[p.shown_order[k]] = sum;
    }
    p.probabilities = softmax(p.scores);
    p.choice = int(std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin());
    p.p_correct = p.probabilities[requests[r].task.label];
    p.correct = p.choice == requests[r].task.label;
  }
  return out;
}

}  // namespace upm
