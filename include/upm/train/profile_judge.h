#pragma once
// The frozen judge of the RL reward: reads a sampled profile and a held-out
// task, returns P(option) per original option (pipeline's Prediction).
// The option order shown to it is drawn per task from `order_seed`, which the
// trainer changes every step, so the policy cannot profit from a position bias.
//
//   LocalJudge   a UPM model folder through pipeline's Predictor (label mode:
//                log-prob of " Item A", " Item B" after the prompt; softmax).
//   RemoteJudge  an OpenAI-compatible endpoint (remote_judge.h).

#include <cstdint>
#include <memory>
#include <vector>

#include "upm/data/prompt_config.h"
#include "upm/infer/language_model.h"
#include "upm/infer/predictor.h"

namespace upm {

class ProfileJudge {
 public:
  virtual ~ProfileJudge() = default;
  // One prediction per request (input = profile), batched.
  virtual std::vector<Prediction> judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) = 0;
};

class LocalJudge : public ProfileJudge {
 public:
  // `lm` must outlive the judge.
  LocalJudge(LanguageModel& lm, PredictorConfig config, data::PromptConfig prompts);
  std::vector<Prediction> judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) override;

 private:
  LanguageModel& lm_;
  PredictorConfig config_;
  data::PromptConfig prompts_;
};

}  // namespace upm
