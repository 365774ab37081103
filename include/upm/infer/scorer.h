#pragma once
// Log-probabilities of given continuations ("options") after a context: how
// a predictor reads which option a user picks. The context is computed once
// per request (prefill one cache row, KVCache::copy_prefix to one row per
// option), then all options are scored in one right-padded pass.
//
//   auto scores = score_options(model, {{context_ids, {option_a_ids, option_b_ids}}});
//   scores[0][1].total   // log p(option b | context)

#include <cstdint>
#include <vector>

#include "upm/core/config.h"

namespace upm {

class CausalLM;

struct ScoringRequest {
  std::vector<int64_t> context;               // non-empty
  std::vector<std::vector<int64_t>> options;  // each non-empty
};

struct OptionScore {
  std::vector<float> token_logprobs;  // log p(option[i] | context, option[0..i)), fp32
  double total = 0;                   // sum of token_logprobs
  double mean = 0;                    // total / number of tokens (length-normalised)
};

struct ScoringConfig {
  int64_t max_batch_sequences = 32;  // option rows per forward pass (whole requests, at least one)
};
void describe(ConfigIO& io, ScoringConfig& c);

// One vector of option scores per request, in the order given. Ids must be
// in the vocabulary (InputError naming the request and option otherwise).
std::vector<std::vector<OptionScore>> score_options(CausalLM& model, const std::vector<ScoringRequest>& requests,
                                                    const ScoringConfig& config = {});

}  // namespace upm
