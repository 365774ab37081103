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

namespace upm::serve {

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
  int64_t n = 1;                  // samples of the one prompt
  std::optional<uint64_t> seed;   // reproducible sampling where the server supports it
  std::vector<std::string> stop;
  bool logprobs = false;          // chosen-token log-probs per choice
  int64_t top_logprobs = 0;       // alternatives per position (0..20), needs logprobs
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
  std::string finish_reason;  // stop | length
  std::vector<TokenLogprob> logprobs;  // empty unless requested
};

struct ChatResponse {
  std::string id;
  std::string model;
  std::vector<ChatChoice> choices;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// JSON <-> structs. `source` names the document in errors ("request body",
// "response from http://...").
nlohmann::json to_json(const ChatRequest& request);
ChatRequest chat_request_from_json(const nlohmann::json& body, const std::string& source);
nlohmann::json to_json(const ChatResponse& response);
ChatResponse chat_response_from_json(const nlohmann::json& body, const std::string& source);

}  // namespace upm::serve
