#pragma once
// The predictor behind an OpenAI-compatible endpoint (vLLM, SGLang,
// upm-serve, a hosted API), so that a profile written by one model can be
// judged by another of any architecture. upm-eval's remote predictors and
// the RL trainer's remote judge (as AlignXplore+ serves its Qwen3-8B judge)
// are both this.
//
// Per request: the predict prompt (options in the shown order) goes out as
// one user message with max_tokens 1, temperature 0, logprobs and
// top_logprobs 20, thinking off (chat_template_kwargs.enable_thinking false).
// The score of shown option k is the log-prob, among the first generated
// token's top_logprobs, of a token that reads as its label: the letter ("A")
// or the whole label ("Item A"), whitespace ignored (the best such token when
// several match). A label absent from the top 20 gets `missing_label_logprob`
// (a floor: the endpoint only says it is less likely than the 20th
// alternative). P(option) = softmax over the option scores, as the local
// predictor's. So that the first token is the label itself, the predict
// template for a remote predictor should ask for the bare letter, or the
// model's chat template should end where the label starts.
//
// A local Predictor computes the same scores from the same model folder with
// prompt_format chat (enable_thinking false), answer_label "letter" and
// answer_prefix "", as long as the letter is one token of the tokenizer and
// outranks its variants (" A" as one token) among the top 20.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/data/prompt_builder.h"
#include "upm/infer/predictor.h"
#include "upm/openai/chat_wire.h"
#include "upm/openai/openai_client.h"

namespace upm {

// Sends requests, returns the responses in order (OpenAIClient::chat_many).
using ChatSender = std::function<std::vector<openai::ChatResponse>(const std::vector<openai::ChatRequest>&)>;

// The keys a remote predictor adds to its PredictorConfig, read alike by
// upm-eval's predictors[] entries and upm-train rl's predictor section.
struct RemotePredictorConfig {
  // An OpenAIClientConfig object ({"base_url", "model", "api_key_env", ...}),
  // kept as JSON so that a local predictor, which has none, reads as valid.
  nlohmann::json remote = nlohmann::json::object();
  // Log-prob given to an option label absent from the first token's
  // top_logprobs (20 alternatives at most are returned).
  double missing_label_logprob = -30.0;
};

// Declares "remote" and "missing_label_logprob" at the caller's level.
inline void describe(ConfigIO& io, RemotePredictorConfig& c) {
  io.field("remote", c.remote);
  io.field("missing_label_logprob", c.missing_label_logprob);
}

// Reading a predictor that is remote (after describe): `remote` must be a
// valid OpenAIClientConfig with a well-formed base_url, and `predictor` (the
// PredictorConfig at `predictor_key`: "" for the caller's level) in label
// mode without calibrate. Each problem is reported through `io`; `c.remote`
// becomes the resolved client settings (defaults filled in).
void check_remote_predictor(ConfigIO& io, RemotePredictorConfig& c, const PredictorConfig& predictor,
                            const std::string& predictor_key);

// The client settings in `c.remote`; `source` names them in errors.
openai::OpenAIClientConfig remote_client_config(const RemotePredictorConfig& c, const std::string& source);

// Scores of the shown options from a response's first-token top_logprobs,
// mapped back to original option indices through `shown_order`; fills
// scores, probabilities, choice, p_correct, correct and prompt_tokens (the
// endpoint's usage.prompt_tokens) of a Prediction. An InputError naming
// `source` if the response has no choice or no log-probs.
Prediction prediction_from_top_logprobs(const openai::ChatResponse& response, const std::vector<int>& shown_order,
                                        int label, double missing_label_logprob, const std::string& source);

// The request for one predict prompt.
openai::ChatRequest judge_request(const std::string& prompt_text);

class RemotePredictor {
 public:
  // `count_tokens` measures prompts for the templates' event budgets (the
  // predict-history prompt drops its oldest events to fit); `endpoint` names
  // the endpoint in errors.
  RemotePredictor(ChatSender send, PredictorConfig config, data::PromptConfig prompts, data::TokenCounter count_tokens,
                  double missing_label_logprob, std::string endpoint);

  // One prediction per request, all sent at once; options shown in the order
  // drawn from `order_seed` (and config.shuffle_options). prompt_fits
  // compares the endpoint's prompt token count with prompts.max_predict_tokens.
  std::vector<Prediction> predict(const std::vector<PredictRequest>& requests, uint64_t order_seed);
  // The order drawn from config.seed, as the local Predictor's.
  std::vector<Prediction> predict(const std::vector<PredictRequest>& requests) {
    return predict(requests, config_.seed);
  }

  const std::string& endpoint() const { return endpoint_; }

 private:
  ChatSender send_;
  PredictorConfig config_;
  data::PromptBuilder builder_;
  double missing_;
  std::string endpoint_;
};

}  // namespace upm
