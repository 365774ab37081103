#pragma once
// The optimisation half of a GRPO step: several passes (ppo_epochs) over one
// rollout batch, each cut into `minibatches` optimizer updates; per update
// the current policy's log-probs are recomputed with autograd and the clipped
// surrogate + k3 KL (grpo_loss.h) is minimised.
//
// Normalisation across micro-batches and ranks: each micro-batch's loss (a
// mean over its tokens, or its sequences) is weighted by its share of the
// whole minibatch's tokens (sequences) over all ranks, and gradients are
// summed over ranks, so the update equals that of the minibatch as one batch
// in one process, however it is split.

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "upm/train/completion_logprobs.h"
#include "upm/train/grpo_loss.h"

namespace upm {

class CausalLM;
class AdamW;
class Distributed;

struct GrpoUpdateInput {
  std::vector<CompletionRef> rows;  // this rank's samples
  torch::Tensor old_logprobs;       // [B, Tc] (Tc >= every completion), 0-padded
  torch::Tensor ref_logprobs;       // [B, Tc] or undefined (kl_beta 0)
  torch::Tensor advantages;         // [B]
};

struct GrpoUpdateOptions {
  GrpoLossConfig loss;
  int64_t ppo_epochs = 1;
  int64_t minibatches = 1;
  int64_t micro_batch_size = 16;
  double lr = 1e-6;
  double max_grad_norm = 1.0;
  uint64_t shuffle_seed = 0;  // order of the samples in each pass
};

struct GrpoUpdateStats {
  double loss = 0.0;           // mean over updates of the minibatch loss
  double kl = 0.0;             // per token, over all passes
  double clip_fraction = 0.0;  // share of tokens whose clipped branch was taken
  double ratio_mean = 0.0;
  double entropy = 0.0;    // per token, first pass (the rollout policy)
  double grad_norm = 0.0;  // mean over updates, before clipping
  int64_t updates = 0;
};

GrpoUpdateStats grpo_update(CausalLM& policy, AdamW& optimizer, const GrpoUpdateInput& input,
                            const GrpoUpdateOptions& options, Distributed* dist);

// Log-probs of `rows` under `model` without autograd, in micro-batches: the
// reference (or recomputed old-policy) term. [B, Tc] fp32.
torch::Tensor frozen_logprobs(CausalLM& model, const std::vector<CompletionRef>& rows, int64_t micro_batch_size);

}  // namespace upm
