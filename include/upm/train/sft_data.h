#pragma once
// SFT examples: JSONL rows turned into token ids plus a per-token target mask.
//
// Accepted rows (one per line):
//   {"prompt": "...", "completion": "..."}
//       ids = [the tokenizer's leading specials, e.g. BOS] + encode(prompt) + encode(completion) + EOS;
//       only the completion tokens and the EOS are targets.
//   {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
//       rendered by the model's chat template (text/chat_template.h: Qwen3,
//       ChatML, Llama 3, ...); targets are what the model writes after each
//       assistant generation prompt: the reply (with the think block Qwen3's
//       template adds) and its end marker (<|im_end|>, <|eot_id|>), never the
//       role header. Each turn must render the same when later turns follow
//       (multi-turn Qwen3 drops earlier think blocks: such rows are errors).
// A bad row is an InputError "file:line: field: problem".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "upm/core/jsonl.h"
#include "upm/text/chat_template.h"
#include "upm/text/tokenizer.h"

namespace upm {

struct SftExample {
  std::vector<int64_t> ids;     // [T]
  std::vector<uint8_t> target;  // [T]: 1 = ids[i] is trained (predicted from ids[..i-1])
  int64_t target_count() const;
};

struct SftDataOptions {
  int64_t max_length = 1024;  // tokens per example
  // End of a completion when the tokenizer names no EOS (a bare tokenizer.json
  // without tokenizer_config.json): the model config's eos_token_id.
  std::optional<TokenId> eos;
  std::string too_long = "truncate";  // truncate (keep the first max_length tokens) | skip | error
  // Renders {"messages"} rows; unset = "plain" (ChatML without a system prompt).
  std::optional<ChatTemplate> chat_template;
};

// One row -> example (no length handling). Errors name the record's file, line and field.
SftExample encode_sft_record(const JsonlRecord& record, const Tokenizer& tokenizer, const SftDataOptions& options = {});

struct SftDataset {
  std::vector<SftExample> examples;
  int64_t truncated = 0;  // rows cut to max_length
  int64_t skipped = 0;    // rows dropped (too long with too_long=skip, or no target left)
};

// Reads a whole file strictly: the first malformed row is an InputError.
SftDataset read_sft_file(const std::string& path, const Tokenizer& tokenizer, const SftDataOptions& options);

}  // namespace upm
