#pragma once
// The contrastive objective of Q-Anchor training, as a pure tensor function:
// InfoNCE over in-batch negatives between user-query embeddings (anchors) and
// the embeddings of each user's held-out positive behaviour, with the
// paper's margin mask: a negative whose similarity to the anchor exceeds the
// positive's by more than `margin` is most likely a false negative (another
// user who did the same thing) and is dropped from the denominator.
//
//   s[i, j] = cos(anchor_i, positive_j)           (dot product if !normalize)
//   keep[i, j] = (j == i) or s[i, j] <= s[i, i] + margin
//   loss = mean_i -log( exp(s[i,i]/t) / sum_{j: keep[i,j]} exp(s[i,j]/t) )
//
// Published defaults: temperature 0.07, margin 0.1. The joint objective adds
// the next-token loss with a configurable weight (the trainer's job).

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "upm/core/config.h"

namespace upm {

struct InfoNceConfig {
  double temperature = 0.07;
  double margin = 0.1;    // negatives above positive + margin are masked; < 0 disables the mask
  bool normalize = true;  // L2-normalise both sides (cosine similarity)
};

inline void describe(ConfigIO& io, InfoNceConfig& c) {
  io.field("temperature", c.temperature).greater_than(0.0);
  io.field("margin", c.margin);
  io.field("normalize", c.normalize);
}

struct InfoNceTerms {
  at::Tensor loss;        // scalar, differentiable w.r.t. both inputs
  at::Tensor similarity;  // [B, B] (detached)
  int64_t masked = 0;     // negatives dropped by the margin mask
};

// anchors, positives: [B, d] with B >= 1 (row i's positive is positives[i]).
InfoNceTerms info_nce_loss(const at::Tensor& anchors, const at::Tensor& positives, const InfoNceConfig& config);

}  // namespace upm
