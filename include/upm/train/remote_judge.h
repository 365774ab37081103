#pragma once
// The RL judge behind an OpenAI-compatible endpoint (vLLM, SGLang, upm-serve,
// as AlignXplore+ serves its Qwen3-8B judge): the inference layer's
// RemotePredictor (remote_predictor.h says how a response becomes option
// probabilities) with the step's option order.

#include <string>

#include "upm/data/prompt_builder.h"
#include "upm/infer/predictor.h"
#include "upm/infer/remote_predictor.h"
#include "upm/train/profile_judge.h"

namespace upm {

class RemoteJudge : public ProfileJudge {
 public:
  // `count_tokens` measures prompts for the template's token budgets (the
  // remote model's tokenizer is not at hand: the policy's stands in).
  RemoteJudge(ChatSender send, PredictorConfig config, data::PromptConfig prompts, data::TokenCounter count_tokens,
              double missing_label_logprob, std::string endpoint);
  std::vector<Prediction> judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) override;

 private:
  RemotePredictor predictor_;
};

}  // namespace upm
