#pragma once
// `upm-infer generate`: one prompt, given as token ids, text or a chat, loaded
// model, decoded greedily or sampled; --num-samples N decodes N samples of the
// prompt as one shared-prefix group.

#include <cstdint>
#include <string>
#include <vector>

#include "upm/infer/generation_config.h"
#include "upm/infer/generator.h"
#include "upm/model/model_runtime.h"
#include "upm/text/chat_template.h"

namespace upm {

struct GenerateJob {
  std::string model;  // model folder (config.json + safetensors; tokenizer unless the prompt is ids)
  ModelRuntime runtime;
  // Exactly one of the three.
  std::string ids;            // "1,2,3": the prompt's token ids
  std::string prompt;         // text, encoded with the tokenizer's special tokens (e.g. bos)
  std::string messages;       // a JSON chat file (read_chat_messages), rendered by the model's chat template
  std::string chat_template;  // template name overriding the model's; "" = the model's
  GenerationConfig generation;
  int64_t num_samples = 1;
};

// "1,2,3" -> {1, 2, 3}; anything else is an InputError naming --ids.
std::vector<int64_t> parse_token_ids(const std::string& text);

// A JSON file holding [{"role": ..., "content": ...}, ...] or {"messages": [...]}.
std::vector<ChatMessage> read_chat_messages(const std::string& path);

// Loads job.model and decodes job.num_samples continuations of the prompt.
// The tokenizer is needed for text, chats and stop strings; a run from ids
// without stop strings goes on without one when the folder has none.
std::vector<Generation> run_generate_job(const GenerateJob& job);

// How `upm-infer generate` prints its samples: one line each (no newline).
enum class GenerationPrint {
  ids,   // the new token ids, space-separated
  text,  // the decoded text
  json,  // generation_to_json plus "sample": i (invalid UTF-8 replaced)
};
std::vector<std::string> format_generations(const std::vector<Generation>& outs, GenerationPrint print);

}  // namespace upm
