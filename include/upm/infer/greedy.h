#pragma once
// Greedy decoding: the argmax token at every step, with no stop ids other
// than the given ones. A shorthand for Generator (generator.h) with
// temperature 0, kept for callers that only need token ids.

#include <cstdint>
#include <vector>

namespace upm {

class CausalLM;

struct GreedyOptions {
  int64_t max_new_tokens = 32;
  std::vector<int64_t> stop_ids;  // a sequence ends after emitting one of these (it is kept)
};

// New tokens of each prompt (at most max_new_tokens each). Prompts must be
// non-empty and hold ids < vocab_size (InputError otherwise).
std::vector<std::vector<int64_t>> greedy_generate(CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                                  const GreedyOptions& options);

}  // namespace upm
