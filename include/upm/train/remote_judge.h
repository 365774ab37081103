#pragma once
// The RL judge behind an OpenAI-compatible endpoint (vLLM, SGLang, upm-serve,
// as AlignXplore+ serves its Qwen3-8B judge).
//
// Per task: the predict prompt (options in the step's shown order) goes out as
// one user message with max_tokens 1, temperature 0, logprobs and
// top_logprobs 20, thinking off (chat_template_kwargs.enable_thinking false). The score of shown option k is the
// log-prob, among the first generated token's top_logprobs, of a token that reads as its label: the letter ("A") or the
// whole label ("Item A"), whitespace ignored (the best such token when several match). A label absent from the top 20
// gets `missing_label_logprob` (a floor: the endpoint only says it is less likely than the 20th alternative). P(option)
// = softmax over the option scores, as the local judge. So that the first token is the label itself, the predict
// template for a remote judge should ask for the bare letter, or the model's
// chat template should end where the label starts.

#include <functional>
#include <string>
#include <vector>

#include "upm/data/prompt_builder.h"
#include "upm/infer/predictor.h"
#include "upm/openai/chat_wire.h"
#include "upm/train/profile_judge.h"

namespace upm {

// Sends requests, returns the responses in order (OpenAIClient::chat_many).
using ChatSender = std::function<std::vector<openai::ChatResponse>(const std::vector<openai::ChatRequest>&)>;

// Scores of the shown options from a response's first-token top_logprobs,
// mapped back to original option indices through `shown_order`; fills
// scores, probabilities, choice, p_correct and correct of a Prediction.
// An InputError naming `source` if the response has no choice or no log-probs.
Prediction prediction_from_top_logprobs(const openai::ChatResponse& response, const std::vector<int>& shown_order,
                                        int label, double missing_label_logprob, const std::string& source);

// The request for one predict prompt.
openai::ChatRequest judge_request(const std::string& prompt_text);

class RemoteJudge : public ProfileJudge {
 public:
  // `count_tokens` measures prompts for the template's token budgets (the
  // remote model's tokenizer is not at hand: the policy's stands in).
  RemoteJudge(ChatSender send, PredictorConfig config, data::PromptConfig prompts, data::TokenCounter count_tokens,
              double missing_label_logprob, std::string endpoint);
  std::vector<Prediction> judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) override;

 private:
  ChatSender send_;
  PredictorConfig config_;
  data::PromptBuilder builder_;
  double missing_;
  std::string endpoint_;
};

}  // namespace upm
