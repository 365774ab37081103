#include "upm/pipeline/teach/candidate_validation.h"

#include <algorithm>

#include "upm/infer/predictor.h"

namespace upm {

namespace {

// Accuracy and mean P(correct) of one input's predictions, in task order.
ValidationScore summarize(const std::vector<Prediction>& predictions, size_t first, size_t tasks) {
  ValidationScore s;
  double p_sum = 0.0;
  for (size_t t = 0; t < tasks; ++t) {
    const Prediction& p = predictions[first + t];
    s.choices.push_back(p.choice);
    s.p_correct.push_back(p.p_correct);
    s.correct += p.correct ? 1 : 0;
    p_sum += p.p_correct;
  }
  if (tasks > 0) {
    s.accuracy = double(s.correct) / double(tasks);
    s.mean_p_correct = p_sum / double(tasks);
  }
  return s;
}

}  // namespace

std::vector<ValidationScore> score_inputs(Predictor& predictor, const std::vector<data::BenchmarkTask>& tasks,
                                          const std::vector<std::optional<std::string>>& inputs) {
  // Teachers often write the same text twice (a rule-based candidate whose
  // subset changed nothing): each distinct input is scored once.
  std::vector<std::optional<std::string>> profiles;
  std::vector<size_t> slot(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto seen = std::find(profiles.begin(), profiles.end(), inputs[i]);
    slot[i] = size_t(seen - profiles.begin());
    if (seen == profiles.end()) profiles.push_back(inputs[i]);
  }
  if (profiles.empty()) return {};
  std::vector<PredictRequest> requests;
  for (const auto& profile : profiles) {
    for (const auto& task : tasks) {
      PredictRequest r;
      r.task = task;
      r.input = profile ? PredictInput::profile : PredictInput::none;
      if (profile) r.profile = *profile;
      requests.push_back(std::move(r));
    }
  }
  const auto predictions = predictor.predict(requests);
  std::vector<ValidationScore> out;
  for (size_t i = 0; i < profiles.size(); ++i) out.push_back(summarize(predictions, i * tasks.size(), tasks.size()));
  std::vector<ValidationScore> scores;
  for (size_t i : slot) scores.push_back(out[i]);
  return scores;
}

ValidationScore score_history(Predictor& predictor, const std::vector<data::BenchmarkTask>& tasks,
                              const std::vector<data::Event>& history) {
  if (tasks.empty()) return {};
  std::vector<PredictRequest> requests;
  for (const auto& task : tasks) {
    PredictRequest r;
    r.task = task;
    r.input = PredictInput::history;
    r.history = history;
    requests.push_back(std::move(r));
  }
  return summarize(predictor.predict(requests), 0, tasks.size());
}

bool passes_validation(const ValidationScore& candidate, const ValidationScore& baseline,
                       const ValidationConfig& config) {
  if (candidate.accuracy < config.min_accuracy) return false;
  if (config.vs_baseline == "none") return true;
  if (candidate.correct != baseline.correct) return candidate.correct > baseline.correct;
  return config.vs_baseline == "accuracy_then_p" && candidate.mean_p_correct > baseline.mean_p_correct;
}

}  // namespace upm
