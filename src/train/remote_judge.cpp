#include "upm/train/remote_judge.h"

namespace upm {

RemoteJudge::RemoteJudge(ChatSender send, PredictorConfig config, data::PromptConfig prompts,
                         data::TokenCounter count_tokens, double missing_label_logprob, std::string endpoint)
    : predictor_(std::move(send), std::move(config), std::move(prompts), std::move(count_tokens), missing_label_logprob,
                 std::move(endpoint)) {}

std::vector<Prediction> RemoteJudge::judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) {
  return predictor_.predict(requests, order_seed);
}

}  // namespace upm
