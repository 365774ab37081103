#pragma once
// A client for any OpenAI-compatible chat-completions endpoint (vLLM, SGLang,
// upm-serve, a hosted API). Remote teachers (build-sft) and remote judges
// (RL reward) go through it. Retries 5xx, 429 and transport failures with
// exponential backoff; 4xx other than 429 and malformed responses fail at once
// with the URL and the reason.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/openai/chat_wire.h"

namespace upm::openai {

struct OpenAIClientConfig {
  std::string base_url;      // e.g. "http://127.0.0.1:8000/v1"
  std::string model;         // sent as "model" in every request
  std::string api_key_env;   // name of the environment variable holding the key ("" = no key)
  double timeout_s = 120.0;  // per attempt (connect + read)
  int64_t max_retries = 3;   // further attempts after the first
  double backoff_s = 0.5;    // first retry delay; doubles each retry
  int64_t concurrency = 4;   // requests in flight in chat_many
};

inline void describe(ConfigIO& io, OpenAIClientConfig& c) {
  io.field("base_url", c.base_url).required();
  io.field("model", c.model).required();
  io.field("api_key_env", c.api_key_env);
  io.field("timeout_s", c.timeout_s).greater_than(0.0);
  io.field("max_retries", c.max_retries).at_least(0);
  io.field("backoff_s", c.backoff_s).at_least(0.0);
  io.field("concurrency", c.concurrency).greater_than(0);
}

// The endpoint could not give a usable answer after the retries (exit 1: the
// input was fine, the service was not).
class RemoteError : public Error {
 public:
  using Error::Error;
};

class OpenAIClient {
 public:
  explicit OpenAIClient(OpenAIClientConfig config);
  ~OpenAIClient();

  // POST {base_url}/chat/completions. `request.model` empty -> config.model.
  ChatResponse chat(const ChatRequest& request);

  // Many requests, at most `concurrency` in flight; results in input order.
  // Throws the first RemoteError after all in-flight requests ended.
  std::vector<ChatResponse> chat_many(const std::vector<ChatRequest>& requests);

  // GET {base_url}/models: the served model ids.
  std::vector<std::string> models();

  const OpenAIClientConfig& config() const { return config_; }

 private:
  struct Impl;
  OpenAIClientConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace upm::openai
