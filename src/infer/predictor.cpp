#include "upm/infer/predictor.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

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

std::string scored_label(const PredictorConfig& config, size_t k) {
  const std::string label = data::option_label(k);
  return config.answer_label == "letter" ? label.substr(label.size() - 1) : label;
}

void check_predict_task(const data::BenchmarkTask& task) {
  if (task.options.size() < 2 || task.label < 0 || task.label >= int(task.options.size())) {
    throw InputError(Location{"", 0, "task " + task.task_id}, "needs >= 2 options and a label among them");
  }
}

void require_listed_options(const data::PromptBuilder& builder) {
  if (builder.lists_options()) return;
  throw InputError(Location{builder.config().template_path(builder.config().predict_template), 0, "options"},
                   "predictor mode \"label\" needs {{options}} in every predict template (the labels name listed "
                   "options); templates without it are for mode \"continuation\"");
}

data::BuiltPrompt predict_prompt(const data::PromptBuilder& builder, const PredictRequest& request,
                                 const std::vector<int>& order) {
  const data::BenchmarkTask shown = shown_task(request.task, order);
  switch (request.input) {
    case PredictInput::none: return builder.predict_none(shown);
    case PredictInput::history: return builder.predict_history(shown, request.history);
    case PredictInput::profile: break;
  }
  return builder.predict(shown, request.profile);
}

Predictor::Predictor(LanguageModel& lm, PredictorConfig config, data::PromptConfig prompts)
    : lm_(lm),
      config_(std::move(config)),
      builder_(std::move(prompts), [&lm](std::string_view text) { return lm.tokenizer->count_tokens(text); }) {
  if (config_.mode == "label") require_listed_options(builder_);
}

std::string Predictor::prompt_text(const PredictRequest& request, const std::vector<int>& order) const {
  return predict_prompt(builder_, request, order).text;
}

namespace {

// The cache key of a task's no-input scores: its id and options (ids repeat
// across benchmarks).
std::string task_key(const data::BenchmarkTask& task) {
  std::string key = task.task_id;
  for (const std::string& option : task.options) key += '\x1f' + option;
  return key;
}

}  // namespace

std::vector<Prediction> Predictor::predict(const std::vector<PredictRequest>& requests) {
  const bool label_mode = config_.mode == "label";
  std::vector<ScoringRequest> groups(requests.size());
  std::vector<Prediction> out(requests.size());
  auto option_ids = [&](const data::BenchmarkTask& task, const std::vector<int>& order) {
    std::vector<std::vector<int64_t>> ids;
    for (size_t k = 0; k < task.options.size(); ++k) {
      const std::string shown = label_mode ? scored_label(config_, k) : task.options[order[k]];
      ids.push_back(encode_continuation(lm_, config_.answer_prefix + shown));
    }
    return ids;
  };
  // calibrate: the requests whose task's no-input prompt is scored in this
  // call (one per task), after the requests' own groups.
  std::vector<size_t> baseline_of;
  std::set<std::string> pending;
  for (size_t r = 0; r < requests.size(); ++r) {
    const data::BenchmarkTask& task = requests[r].task;
    check_predict_task(task);
    Prediction& p = out[r];
    p.shown_order = shown_option_order(task.task_id, task.options.size(), config_.seed, config_.shuffle_options);
    const std::string text = prompt_text(requests[r], p.shown_order);
    groups[r].context = encode_prompt(lm_, text);
    p.prompt_tokens = int64_t(groups[r].context.size());
    p.prompt_fits = p.prompt_tokens <= builder_.config().max_predict_tokens;
    groups[r].options = option_ids(task, p.shown_order);
    const std::string key = task_key(task);
    if (config_.calibrate && requests[r].input != PredictInput::none && !no_input_scores_.count(key) &&
        pending.insert(key).second) {
      PredictRequest none{task, PredictInput::none, "", {}};
      ScoringRequest baseline;
      baseline.context = encode_prompt(lm_, prompt_text(none, p.shown_order));
      baseline.options = groups[r].options;
      baseline_of.push_back(r);
      groups.push_back(std::move(baseline));
    }
  }
  ScoringConfig scoring;
  scoring.max_batch_sequences = config_.max_batch_rows;
  const auto scores = score_options(*lm_.model, groups, scoring);
  // Per original option: summed (or per-token) log-probs of group g.
  auto option_scores = [&](size_t g, const std::vector<int>& order) {
    std::vector<double> out_scores(order.size(), 0.0);
    for (size_t k = 0; k < order.size(); ++k) {
      const auto& lp = scores[g][k].token_logprobs;
      double sum = std::accumulate(lp.begin(), lp.end(), 0.0);
      if (!label_mode && config_.length_normalize) sum /= double(lp.size());
      out_scores[order[k]] = sum;
    }
    return out_scores;
  };
  for (size_t b = 0; b < baseline_of.size(); ++b) {
    const size_t r = baseline_of[b];
    no_input_scores_[task_key(requests[r].task)] = option_scores(requests.size() + b, out[r].shown_order);
  }

  for (size_t r = 0; r < requests.size(); ++r) {
    Prediction& p = out[r];
    p.scores = option_scores(r, p.shown_order);
    if (config_.calibrate) {
      if (requests[r].input == PredictInput::none) {
        p.scores.assign(p.scores.size(), 0.0);
      } else {
        const std::vector<double>& base = no_input_scores_.at(task_key(requests[r].task));
        for (size_t i = 0; i < p.scores.size(); ++i) p.scores[i] -= base[i];
      }
    }
    p.probabilities = softmax(p.scores);
    if (config_.calibrate) {
      // Ties (certain with no input) go to the option shown first, so that
      // the share of labels at index 0 does not decide them.
      p.choice = p.shown_order.front();
      for (int original : p.shown_order) {
        if (p.scores[size_t(original)] > p.scores[size_t(p.choice)]) p.choice = original;
      }
    } else {
      p.choice = int(std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin());
    }
    p.p_correct = p.probabilities[requests[r].task.label];
    p.correct = p.choice == requests[r].task.label;
  }
  return out;
}

}  // namespace upm
