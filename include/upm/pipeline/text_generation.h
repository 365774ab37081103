#pragma once
// Prompt texts -> generated texts for the pipeline jobs (profiles, updates).
// This is their one seam onto the inference layer: today it runs the greedy
// batched loop (infer/greedy.h); switching to the generation engine (sampling,
// stop strings) changes this file only.

#include <cstdint>
#include <string>
#include <vector>

#include "upm/core/config.h"

namespace upm {

struct LanguageModel;

struct GenerationSettings {
  int64_t max_new_tokens = 1024;  // a profile longer than this is cut
  int64_t batch_size = 8;         // prompts per batch (sorted by length by the callers)
};

inline void describe(ConfigIO& io, GenerationSettings& g) {
  io.field("max_new_tokens", g.max_new_tokens).greater_than(0);
  io.field("batch_size", g.batch_size).greater_than(0);
}

// One text per prompt (special tokens dropped, invalid UTF-8 replaced by U+FFFD).
// Prompts are run in the order given, `settings.batch_size` at a time.
std::vector<std::string> generate_texts(LanguageModel& lm, const std::vector<std::string>& prompts,
                                        const GenerationSettings& settings);

}  // namespace upm
