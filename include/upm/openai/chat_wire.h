#pragma once
// The OpenAI chat-completions wire format, as plain structs. Shared by the
// client (remote teachers and judges on vLLM / SGLang / upm-serve) and by
// upm-serve itself, so both sides read and write exactly one definition.
// Only the fields UPM uses are modelled; unknown request fields are ignored
// (as OpenAI-compatible servers do), malformed known fields are InputErrors.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace upm::openai {

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t max_tokens = 256;
  int64_t n = 1;                 // samples of the one prompt
  std::optional<uint64_t> seed;  // reproducible sampling where the server supports it
  std::vector<std::string> stop;
  bool logprobs = false;     // chosen-token log-probs per choice
  int64_t top_logprobs = 0;  // alternatives per position (0..20), needs logprobs
  // Qwen3's thinking switch, sent as vLLM / SGLang's chat_template_kwargs.enable_thinking
  // (unset = the server's default: thinking on).
  std::optional<bool> enable_thinking;
};

struct TopLogprob {
  std::string token;
  double logprob = 0.0;
};

// One generated position: the chosen token and the most likely alternatives.
struct TokenLogprob {
  std::string token;
  double logprob = 0.0;
  std::vector<TopLogprob> top_logprobs;
};

struct ChatChoice {
  int64_t index = 0;
  std::string content;
  std::string finish_reason;           // stop | length
  std::vector<TokenLogprob> logprobs;  // empty unless requested
};

struct ChatResponse {
  std::string id;
  std::string model;
  std::vector<ChatChoice> choices;
  int64_t prompt_tokens = 0;      // usage.prompt_tokens
  int64_t completion_tokens = 0;  // usage.completion_tokens (all choices)
  int64_t created = 0;            // unix seconds
};

// JSON <-> structs. `source` names the document in errors ("request body",
// "response from http://...").
nlohmann::json to_json(const ChatRequest& request);
ChatRequest chat_request_from_json(const nlohmann::json& body, const std::string& source);
nlohmann::json to_json(const ChatResponse& response);
ChatResponse chat_response_from_json(const nlohmann::json& body, const std::string& source);

// The largest value a logprob takes on the wire: JSON has no -inf, so an
// impossible token is written as this (vLLM's convention).
constexpr double kMinWireLogprob = -9999.0;

// log p(`token`) at generated position `position` of `choice`, read from that
// position's top_logprobs (or the chosen token itself); nullopt when the
// token is not listed there. How a judge reads P("A") vs P("B") of its first
// answer token: top_logprob(choice, 0, "A").
std::optional<double> top_logprob(const ChatChoice& choice, size_t position, const std::string& token);

}  // namespace upm::openai
