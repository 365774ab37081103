#pragma once
// Runtime settings of one generation job (how to decode), apart from the
// model's architecture: the one "generation" section of every job that
// writes text (upm-profile, upm-update, local teachers, RL rollouts,
// upm-infer). Embeds in job configs as a section:
//   "generation": {"sampling": {"temperature": 0.7, "top_p": 0.9, "seed": 1},
//                  "max_new_tokens": 512, "stop_strings": ["</profile>"]}
// The defaults below are the inference tools'; a job with other needs sets
// its own in its config struct (profiles: greedy, 1024 tokens, 8 sequences).

#include <cstdint>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/infer/sampling_config.h"

namespace upm {

struct GenerationConfig {
  SamplingConfig sampling;       // temperature 0 = greedy
  int64_t max_new_tokens = 256;  // per sequence
  // Tokens per sequence the KV cache holds (prompt + generated); 0 = the
  // longest prompt + max_new_tokens. A prompt that does not fit is an error; a
  // sequence that reaches it ends with finish reason "length".
  int64_t max_length = 0;
  std::vector<std::string> stop_strings;  // decoded-text matches; trimmed from the text
  std::vector<int64_t> stop_token_ids;    // besides the end-of-sequence ids below
  // End sequences on the tokenizer's stop ids (eos, <|im_end|>, ...) and the
  // model config's eos_token_id.
  bool stop_at_eos = true;
  bool skip_special_tokens = true;  // in the returned text
  // Sequences decoded together (KV-cache rows; a GRPO group counts G): more
  // prompts are generated in waves of this many, each left-padded to its own
  // longest prompt, so a job that sorts its prompts by length pads little.
  int64_t max_batch_sequences = 64;
};
void describe(ConfigIO& io, GenerationConfig& c);

}  // namespace upm
