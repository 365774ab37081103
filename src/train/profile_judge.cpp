#include "upm/train/profile_judge.h"

#include <c10/core/InferenceMode.h>

namespace upm {

LocalJudge::LocalJudge(LanguageModel& lm, PredictorConfig config, data::PromptConfig prompts)
    : lm_(lm), config_(std::move(config)), prompts_(std::move(prompts)) {}

std::vector<Prediction> LocalJudge::judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) {
  if (requests.empty()) return {};
  c10::InferenceMode inference;
  PredictorConfig config = config_;
  config.seed = order_seed;
  // A Predictor is cheap (it holds the prompt templates); one per call carries the step's order seed.
  Predictor predictor(lm_, config, prompts_);
  return predictor.predict(requests);
}

}  // namespace upm
