#pragma once
// A model folder ready to read and write text: the CausalLM, its tokenizer and
// a display name. Every pipeline job (profiling, updating, predicting) holds
// one; any supported folder can play any role (a profile written by one model
// can be judged by another).
//
// encode_prompt() is the one place a prompt text becomes ids: raw (BOS + text,
// for base models and models fine-tuned on raw prompts) or as a user turn of
// the model's chat template (instruct models such as Qwen3-8B).

#include <memory>
#include <string>
#include <vector>

#include <optional>

#include "upm/core/config.h"
#include "upm/model/model_runtime.h"
#include "upm/text/chat_template.h"

namespace upm {

class CausalLM;
class Tokenizer;

// How a prompt text is given to the model.
struct PromptFormat {
  std::string kind = "raw";     // raw: BOS + text; chat: one user turn + the assistant's header
  std::string chat_template;    // chat: a template name (qwen3, llama3, ...); "" = the folder's own
  bool enable_thinking = true;  // chat, Qwen3: false adds the empty <think></think> block
};
inline void describe(ConfigIO& io, PromptFormat& f) {
  io.field("kind", f.kind).one_of({"raw", "chat"});
  io.field("chat_template", f.chat_template);
  io.field("enable_thinking", f.enable_thinking);
}

struct LanguageModel {
  std::string dir;
  std::string name;  // the folder's base name ("qwen3-8b"), written into profile records
  std::shared_ptr<CausalLM> model;
  std::shared_ptr<Tokenizer> tokenizer;
  std::optional<ChatTemplate> chat_template;  // set when prompts are chat turns
  bool enable_thinking = true;
};

// Loads config.json, weights and tokenizer of `dir` (InputError naming what
// is missing). Fails if the tokenizer has ids the model's vocabulary lacks.
LanguageModel load_language_model(const std::string& dir, const ModelRuntime& runtime, const PromptFormat& format = {});

// Prompt text -> model input ids. Raw: the tokenizer's BOS (if it has one,
// as Llama's) then the text, no trailing specials. Chat: the text as a user
// turn rendered by the chat template with the generation prompt (the
// template writes its own BOS). InputError if the ids do not fit the model's context window.
std::vector<int64_t> encode_prompt(const LanguageModel& lm, const std::string& text);

// Ids of a continuation appended after a prompt (no specials added).
std::vector<int64_t> encode_continuation(const LanguageModel& lm, const std::string& text);

// Tokens that end a generation (eos and chat end markers).
std::vector<int64_t> stop_token_ids(const LanguageModel& lm);

}  // namespace upm
