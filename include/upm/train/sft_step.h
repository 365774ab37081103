#pragma once
// One SFT optimizer step, shared by the trainer, the parity test and the
// benchmark: micro-batches -> summed target NLL -> backward (gradient
// accumulation) -> all-reduce over ranks -> global-norm clipping -> AdamW.
//
// Normalisation: every micro-batch loss is its summed NLL divided by the
// number of target tokens of the whole global batch (all micro-batches of all
// ranks), and gradients are summed over ranks. The step is then the gradient
// of the mean NLL over the global batch's target tokens, whatever the split
// into micro-batches and ranks (a per-micro-batch mean would weight short
// completions more than long ones).

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "upm/train/sft_data.h"

namespace upm {

class CausalLM;
class AdamW;
class Distributed;

struct SftBatch {
  torch::Tensor input_ids;       // [B, T] int64, right-padded
  torch::Tensor attention_mask;  // [B, T] int64
  torch::Tensor targets;         // [B, T] bool: ids[b, t] is trained
  int64_t tokens = 0;            // real tokens
  int64_t target_tokens = 0;
};

SftBatch collate_sft(const std::vector<const SftExample*>& examples, const c10::Device& device);

// Sum over target tokens of -log p(token | tokens before), fp32 scalar with grad.
// Logits are computed only at the positions that predict a target.
torch::Tensor target_nll_sum(CausalLM& model, const SftBatch& batch);
// The same from final hidden states [B, T, hidden] already computed for
// input_ids [B, T]; targets [B, T] bool marks the tokens predicted.
torch::Tensor target_nll_from_hidden(CausalLM& model, const torch::Tensor& hidden, const torch::Tensor& input_ids,
                                     const torch::Tensor& targets);

struct StepStats {
  double loss = 0.0;       // mean NLL per target token over the global batch (all ranks)
  double grad_norm = 0.0;  // before clipping
  int64_t tokens = 0;      // real tokens of this rank's micro-batches
};

// `trainable` are the tensors whose grads are reduced and clipped (the
// optimizer's parameters).
StepStats sft_train_step(CausalLM& model, AdamW& optimizer, const std::vector<SftBatch>& micro_batches,
                         int64_t global_target_tokens, double lr, double max_grad_norm, Distributed* dist);

}  // namespace upm
