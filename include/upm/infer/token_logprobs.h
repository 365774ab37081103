#pragma once
// Per-token log-probabilities of given sequences under a model: the
// teacher-forced score that judges, predictors and `upm-infer score` use.

#include <cstdint>
#include <vector>

namespace upm {

class CausalLM;

struct ScoreOptions {
  int64_t max_batch_sequences = 8;  // sequences per forward pass (right-padded)
};

// For each sequence s: out[s][i] = log p(s[i+1] | s[0..i]), i < |s| - 1,
// computed in fp32. Sequences must be non-empty with ids < vocab_size.
std::vector<std::vector<float>> token_logprobs(CausalLM& model, const std::vector<std::vector<int64_t>>& sequences,
                                               const ScoreOptions& options = {});

}  // namespace upm
