#pragma once
// Settings of the sampler chain (infer/sampler.h), kept apart from it so that
// job configs can embed them without pulling in tensor headers.

#include <cstdint>

#include "upm/core/config.h"

namespace upm {

struct SamplingConfig {
  double temperature = 1.0;         // 0 = greedy (argmax)
  int top_k = 0;                    // 0 = off
  double top_p = 1.0;               // 1 = off
  double min_p = 0.0;               // 0 = off; keep p >= min_p * max p
  double repetition_penalty = 1.0;  // 1 = off; CTRL-style, as in HF
  uint64_t seed = 0;

  bool greedy() const { return temperature == 0.0; }
};
void describe(ConfigIO& io, SamplingConfig& c);

}  // namespace upm
