#pragma once
// The model side of upm-serve, without HTTP: a chat-completions request in,
// a response out, computed by a UPM model folder (CausalLM + tokenizer + chat
// template) through infer's Generator.
//
//   ChatEngine engine(load_chat_model("models/qwen3-0.6b", ModelRuntime{}));
//   ChatResponse r = engine.complete(request);
//
// One request runs at a time (a mutex): a model call already uses every
// core, and the KV cache is sized per request. Concurrent HTTP requests queue.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "upm/model/model_runtime.h"
#include "upm/openai/chat_wire.h"
#include "upm/text/chat_template.h"

namespace upm {
class CausalLM;
class Tokenizer;
}  // namespace upm

namespace upm::serve {

// What ChatEngine serves: a loaded model folder.
struct ChatModel {
  std::string id;  // the name in /v1/models and responses (default: the folder's base name)
  std::shared_ptr<CausalLM> model;
  std::shared_ptr<Tokenizer> tokenizer;
  ChatTemplate chat_template;
};

// config.json, weights, tokenizer and chat template of `dir` (the folder's own
// template, or `chat_template` by name). InputError naming what is missing or
// if the tokenizer has ids the model lacks.
ChatModel load_chat_model(const std::string& dir, const ModelRuntime& runtime, const std::string& id = "",
                          const std::string& chat_template = "");

class ChatEngine {
 public:
  explicit ChatEngine(ChatModel model);

  // Messages -> chat template (with the assistant's generation prompt) ->
  // generation with the request's temperature, top_p, max_tokens, stop and
  // seed (no seed: a random one); n > 1 decodes a shared-prefix group (choice
  // g draws from sequence_seed(seed, g)). logprobs: the log-softmax of the raw
  // logits (before temperature / top_p) of every generated token, and with
  // top_logprobs the k most likely tokens per position. InputError when the
  // prompt plus max_tokens exceed the model's context window.
  // max_seconds > 0 bounds the time the request holds the model, counted from
  // when it gets it: decoding stops at that deadline and the choices keep the
  // tokens they have, with finish_reason "length" (OpenAI's reason for a
  // completion cut by a limit). The top_logprobs pass, over the tokens kept,
  // follows it.
  openai::ChatResponse complete(const openai::ChatRequest& request, double max_seconds = 0);

  // The ids the request's messages render and encode to (what is generated from).
  std::vector<int64_t> prompt_ids(const openai::ChatRequest& request) const;

  const std::string& model_id() const { return model_.id; }
  int64_t context_window() const;

 private:
  ChatModel model_;
  std::mutex mutex_;  // one model call at a time
};

}  // namespace upm::serve
