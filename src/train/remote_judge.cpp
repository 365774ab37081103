#include "upm/train/remote_judge.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "upm/core/error.h"

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

}  // namespace

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
  return p;
}

RemoteJudge::RemoteJudge(ChatSender send, PredictorConfig config, data::PromptConfig prompts,
                         data::TokenCounter count_tokens, double missing_label_logprob, std::string endpoint)
    : send_(std::move(send)),
      config_(std::move(config)),
      builder_(std::move(prompts), std::move(count_tokens)),
      missing_(missing_label_logprob),
      endpoint_(std::move(endpoint)) {}

std::vector<Prediction> RemoteJudge::judge(const std::vector<PredictRequest>& requests, uint64_t order_seed) {
  std::vector<openai::ChatRequest> chats;
  std::vector<std::vector<int>> orders;
  for (const auto& request : requests) {
    const data::BenchmarkTask& task = request.task;
    orders.push_back(shown_option_order(task.task_id, task.options.size(), order_seed, config_.shuffle_options));
    chats.push_back(judge_request(builder_.predict(shown_task(task, orders.back()), request.profile).text));
  }
  const std::vector<openai::ChatResponse> responses = send_(chats);
  if (responses.size() != requests.size())
    throw Error("remote judge: " + std::to_string(responses.size()) + " responses for " +
                std::to_string(requests.size()) + " requests");
  std::vector<Prediction> out;
  for (size_t r = 0; r < requests.size(); ++r) {
    out.push_back(prediction_from_top_logprobs(responses[r], orders[r], requests[r].task.label, missing_,
                                               "response from " + endpoint_));
  }
  return out;
}

}  // namespace upm
