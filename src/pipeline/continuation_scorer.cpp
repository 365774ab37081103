#include "upm/pipeline/continuation_scorer.h"

#include "upm/infer/scorer.h"

namespace upm {

// The predictor's view of the inference layer's option scoring (context
// prefilled once, copied per option).
std::vector<std::vector<std::vector<float>>> score_continuations(CausalLM& model,
                                                                 const std::vector<ContinuationGroup>& groups,
                                                                 const ContinuationScoreOptions& options) {
  std::vector<ScoringRequest> requests;
  requests.reserve(groups.size());
  for (const auto& group : groups) requests.push_back(ScoringRequest{group.context, group.continuations});
  ScoringConfig config;
  config.max_batch_sequences = options.max_batch_rows;
  std::vector<std::vector<std::vector<float>>> out;
  out.reserve(groups.size());
  for (auto& scores : score_options(model, requests, config)) {
    std::vector<std::vector<float>> per_option;
    per_option.reserve(scores.size());
    for (auto& option : scores) per_option.push_back(std::move(option.token_logprobs));
    out.push_back(std::move(per_option));
  }
  return out;
}

}  // namespace upm
