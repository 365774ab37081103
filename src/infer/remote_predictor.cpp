#include "upm/infer/remote_predictor.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "upm/core/error.h"
#include "upm/openai/base_url.h"

namespace upm {

namespace {

std::string strip_spaces(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

// Does a generated token read as the label "Item <letter>"?
bool names_label(const std::string& token, const std::string& label) {
  const std::string t = strip_spaces(token);
  const std::string whole = strip_spaces(label);
  return t == whole || t == label.substr(label.size() - 1);
}

std::string joined(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

}  // namespace

void check_remote_predictor(ConfigIO& io, RemotePredictorConfig& c, const PredictorConfig& predictor,
                            const std::string& predictor_key) {
  if (predictor.mode != "label")
    io.report(joined(predictor_key, "mode"), "must be \"label\" for a remote predictor (it reads option labels)");
  if (predictor.calibrate)
    io.report(joined(predictor_key, "calibrate"), "must be false for a remote predictor (it has no no-input scores)");
  // The same key read again as a typed section, so that its problems name the
  // file and remote.<key>, and --set remote.<key> reaches the JSON kept.
  openai::OpenAIClientConfig client;
  io.section("remote", client);
  c.remote = config_to_json(client);
  if (client.base_url.empty()) return;
  try {
    openai::parse_base_url(client.base_url, "");
  } catch (const InputError& e) {
    io.report("remote.base_url", e.what());
  }
}

openai::OpenAIClientConfig remote_client_config(const RemotePredictorConfig& c, const std::string& source) {
  return config_from_json<openai::OpenAIClientConfig>(c.remote, source);
}

openai::ChatRequest judge_request(const std::string& prompt_text) {
  openai::ChatRequest request;
  request.messages.push_back({"user", prompt_text});
  request.max_tokens = 1;
  request.temperature = 0.0;
  request.logprobs = true;
  request.top_logprobs = 20;
  // The label must be the first token: a Qwen3 judge thinking first would
  // spend its one token on "<think>" (other templates ignore the switch).
  request.enable_thinking = false;
  return request;
}

Prediction prediction_from_top_logprobs(const openai::ChatResponse& response, const std::vector<int>& shown_order,
                                        int label, double missing_label_logprob, const std::string& source) {
  if (response.choices.empty()) throw InputError(Location{source, 0, "choices"}, "no choice in the response");
  const auto& logprobs = response.choices[0].logprobs;
  if (logprobs.empty())
    throw InputError(Location{source, 0, "choices[0].logprobs"}, "no log-probs (does the server return them?)");
  const openai::TokenLogprob& first = logprobs[0];
  Prediction p;
  p.shown_order = shown_order;
  p.scores.assign(shown_order.size(), missing_label_logprob);
  for (size_t k = 0; k < shown_order.size(); ++k) {
    const std::string shown_label = data::option_label(k);
    double best = -std::numeric_limits<double>::infinity();
    auto consider = [&](const std::string& token, double lp) {
      if (names_label(token, shown_label)) best = std::max(best, lp);
    };
    consider(first.token, first.logprob);
    for (const auto& alt : first.top_logprobs) consider(alt.token, alt.logprob);
    if (best > -std::numeric_limits<double>::infinity()) p.scores[size_t(shown_order[k])] = best;
  }
  p.probabilities = softmax(p.scores);
  p.choice = int(std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin());
  p.p_correct = p.probabilities[size_t(label)];
  p.correct = p.choice == label;
  p.prompt_tokens = response.prompt_tokens;
  return p;
}

RemotePredictor::RemotePredictor(ChatSender send, PredictorConfig config, data::PromptConfig prompts,
                                 data::TokenCounter count_tokens, double missing_label_logprob, std::string endpoint)
    : send_(std::move(send)),
      config_(std::move(config)),
      builder_(std::move(prompts), std::move(count_tokens)),
      missing_(missing_label_logprob),
      endpoint_(std::move(endpoint)) {
  require_listed_options(builder_);
}

std::vector<Prediction> RemotePredictor::predict(const std::vector<PredictRequest>& requests, uint64_t order_seed) {
  if (requests.empty()) return {};
  std::vector<openai::ChatRequest> chats;
  std::vector<std::vector<int>> orders;
  for (const auto& request : requests) {
    const data::BenchmarkTask& task = request.task;
    check_predict_task(task);
    orders.push_back(shown_option_order(task.task_id, task.options.size(), order_seed, config_.shuffle_options));
    chats.push_back(judge_request(predict_prompt(builder_, request, orders.back()).text));
  }
  const std::vector<openai::ChatResponse> responses = send_(chats);
  if (responses.size() != requests.size())
    throw Error("remote predictor " + endpoint_ + ": " + std::to_string(responses.size()) + " responses for " +
                std::to_string(requests.size()) + " requests");
  std::vector<Prediction> out;
  for (size_t r = 0; r < requests.size(); ++r) {
    Prediction p = prediction_from_top_logprobs(responses[r], orders[r], requests[r].task.label, missing_,
                                                "response from " + endpoint_);
    p.prompt_fits = p.prompt_tokens <= builder_.config().max_predict_tokens;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace upm
