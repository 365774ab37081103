#pragma once
// Turning next-token logits into tokens: the Hugging Face processor chain
// (repetition penalty -> temperature -> top-k -> top-p -> min-p) and a seeded
// draw per sequence.
//
// Each sequence owns its random stream (an Rng, core/random.h, seeded per
// sequence), and a draw needs one uniform number per sequence: the token is
// found by inverse-CDF search on the device. So a batch of G sequences seeded
// s_0..s_{G-1} yields exactly the tokens of G separate runs with those seeds,
// and results do not depend on which device holds the logits.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "upm/core/random.h"
#include "upm/infer/sampling_config.h"
#include "upm/text/tokenizer.h"

namespace upm {

// Each takes logits [B, V] (any float dtype, any device) and returns new
// logits with filtered tokens at -inf. At least one token always survives.
at::Tensor apply_repetition_penalty(const at::Tensor& logits, const std::vector<std::vector<TokenId>>& seen,
                                    double penalty);
at::Tensor apply_top_k(const at::Tensor& logits, int k);
at::Tensor apply_top_p(const at::Tensor& logits, double p);
at::Tensor apply_min_p(const at::Tensor& logits, double p);

// The whole chain after the repetition penalty: temperature, top-k, top-p,
// min-p; returns float32 probabilities [B, V].
at::Tensor sampling_probabilities(const at::Tensor& logits, const SamplingConfig& config);

class TokenSampler {
 public:
  // One random stream per sequence, seeded by `seeds[i]`.
  TokenSampler(SamplingConfig config, std::vector<uint64_t> seeds);
  // Streams seeded sequence_seed(config.seed, i) for i < num_sequences.
  TokenSampler(SamplingConfig config, int64_t num_sequences);

  // logits [B, V] for the sequences `rows` (indices into the streams);
  // `seen[b]` are the tokens sequence rows[b] has so far (prompt included),
  // used by the repetition penalty. Returns one token per row.
  std::vector<TokenId> sample(const at::Tensor& logits, const std::vector<int64_t>& rows,
                              const std::vector<std::vector<TokenId>>& seen = {});

  const SamplingConfig& config() const { return config_; }

 private:
  SamplingConfig config_;
  std::vector<Rng> streams_;
};

}  // namespace upm
