#pragma once
// Prompt texts -> generated texts for the pipeline jobs (profiles, updates).
// This is their one seam onto the inference layer's Generator (batched
// KV-cache decoding, the seeded sampler chain).

#include <cstdint>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/infer/sampling_config.h"

namespace upm {

struct LanguageModel;

struct GenerationSettings {
  int64_t max_new_tokens = 1024;  // a profile longer than this is cut
  int64_t batch_size = 8;         // prompts per batch (sorted by length by the callers)
  // Greedy by default (temperature 0), so that a rerun writes the same
  // profiles; prompt i of a call draws from sequence_seed(seed, i).
  SamplingConfig sampling = greedy_sampling();

  static SamplingConfig greedy_sampling() {
    SamplingConfig s;
    s.temperature = 0.0;
    return s;
  }
};

inline void describe(ConfigIO& io, GenerationSettings& g) {
  io.field("max_new_tokens", g.max_new_tokens).greater_than(0);
  io.field("batch_size", g.batch_size).greater_than(0);
  io.section("sampling", g.sampling);
}

// One text per prompt (special tokens dropped, invalid UTF-8 replaced by U+FFFD).
// Prompts are run in the order given, `settings.batch_size` at a time.
std::vector<std::string> generate_texts(LanguageModel& lm, const std::vector<std::string>& prompts,
                                        const GenerationSettings& settings);

}  // namespace upm
