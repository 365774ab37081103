#pragma once
// The generation knobs as command-line flags, shared by every tool that
// generates (upm-infer generate, ...), so that the names and checks are the
// same everywhere:
//   --temperature --top-k --top-p --min-p --repetition-penalty --seed
//   --max-new-tokens --stop (repeatable) --num-samples
// and one JSON line per output.

#include <cstdint>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "upm/infer/generation_config.h"
#include "upm/infer/generator.h"

namespace upm {

// Adds the flags to `cmd`; parsed values land in `config` and `num_samples`
// (samples per prompt: a shared-prefix group when > 1).
void add_generation_flags(CLI::App& cmd, GenerationConfig& config, int64_t& num_samples);

// {"ids": [...], "logprobs": [...], "text": "...", "finish_reason": "...", "stop_string": "..."}
// (text is empty without a tokenizer; stop_string only when one matched).
nlohmann::json generation_to_json(const Generation& generation);

}  // namespace upm
