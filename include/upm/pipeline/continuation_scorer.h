#pragma once
// Log-probabilities of several continuations after one shared context, the
// context computed once: it is prefilled into one KV-cache slot, copied to a
// slot per continuation, and every continuation is scored in one more pass.
// The predictor's seam onto the inference layer's option scoring
// (infer/scorer.h), which does the work.

#include <cstdint>
#include <vector>

namespace upm {

class CausalLM;

struct ContinuationGroup {
  std::vector<int64_t> context;                     // non-empty
  std::vector<std::vector<int64_t>> continuations;  // each non-empty
};

struct ContinuationScoreOptions {
  int64_t max_batch_rows = 16;  // continuations (KV-cache slots) per forward pass; a group is never split
};

// out[g][c][i] = log p(continuation_i | context, continuation_<i) of
// continuation c of group g, in fp32.
std::vector<std::vector<std::vector<float>>> score_continuations(CausalLM& model,
                                                                 const std::vector<ContinuationGroup>& groups,
                                                                 const ContinuationScoreOptions& options = {});

}  // namespace upm
