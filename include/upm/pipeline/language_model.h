#pragma once
// A model folder ready to read and write text: the CausalLM, its tokenizer and
// a display name. Every pipeline job (profiling, updating, predicting) holds
// one; any supported folder can play any role (a profile written by one model
// can be judged by another).
//
// encode_prompt() is the one place a prompt text becomes ids, so that wrapping
// prompts in the model's chat template (text layer, in flight) is a change
// here only.

#include <memory>
#include <string>
#include <vector>

#include "upm/model/model_runtime.h"

namespace upm {

class CausalLM;
class Tokenizer;

struct LanguageModel {
  std::string dir;
  std::string name;  // the folder's base name ("qwen3-8b"), written into profile records
  std::shared_ptr<CausalLM> model;
  std::shared_ptr<Tokenizer> tokenizer;
};

// Loads config.json, weights and tokenizer of `dir` (InputError naming what
// is missing). Fails if the tokenizer has ids the model's vocabulary lacks.
LanguageModel load_language_model(const std::string& dir, const ModelRuntime& runtime);

// Prompt text -> model input ids: the tokenizer's BOS (if it has one, as
// Llama's) then the text, no trailing specials. InputError if the ids do not fit the model's context window.
std::vector<int64_t> encode_prompt(const LanguageModel& lm, const std::string& text);

// Ids of a continuation appended after a prompt (no specials added).
std::vector<int64_t> encode_continuation(const LanguageModel& lm, const std::string& text);

// Tokens that end a generation (eos and chat end markers).
std::vector<int64_t> stop_token_ids(const LanguageModel& lm);

}  // namespace upm
