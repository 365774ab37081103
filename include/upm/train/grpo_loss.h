#pragma once
// The GRPO objective, as pure tensor functions so that it can be checked
// against a reference and reused by every RL recipe:
//   * group-normalised advantages (GRPO: (r - mean) / (std + eps); Dr. GRPO:
//     r - mean only),
//   * the clipped importance-ratio surrogate (PPO-style, asymmetric bounds
//     allowed as in DAPO),
//   * a KL penalty to the reference policy with the k3 estimator
//     exp(ref - new) - (ref - new) - 1 (unbiased, always >= 0),
//   * an optional entropy bonus (minus entropy_coef x the policy's mean
//     per-token entropy), which keeps a group's samples diverse: without it a
//     small policy can collapse onto one answer for every prompt, after which
//     all groups have equal rewards and no gradient is left to undo it,
//   * token-level or sequence-level aggregation.

#include <string>

#include <ATen/core/Tensor.h>

#include "upm/core/config.h"

namespace upm {

struct GrpoLossConfig {
  bool scale_by_std = true;  // false = Dr. GRPO (mean-centred only)
  double std_eps = 1e-4;     // added to the group std
  double clip_low = 0.2;     // ratio clipped to [1 - clip_low, 1 + clip_high]
  double clip_high = 0.2;
  double kl_beta = 0.0;  // AlignXplore+ trains with 0
  // "token": mean over all completion tokens of the batch (long answers
  // weigh by their length, DAPO / Dr. GRPO); "sequence": mean over sequences
  // of each sequence's token mean (the original GRPO).
  std::string aggregation = "token";
  // Entropy bonus: the loss subtracts entropy_coef x the entropy of the
  // policy's next-token distribution at completion positions (aggregated as
  // the surrogate is). 0 = off (AlignXplore+, TRL's default).
  double entropy_coef = 0.0;
};
void describe(ConfigIO& io, GrpoLossConfig& c);

// rewards [N * G] (grouped consecutively) -> advantages [N * G].
// NaN rewards (a failed reward call) are left out of their group's
// statistics and get advantage 0; a group whose rewards are all equal gets 0.
// The std is the unbiased one (as torch.std and TRL use).
at::Tensor group_advantages(const at::Tensor& rewards, int64_t group_size, const GrpoLossConfig& config);

struct GrpoLossTerms {
  at::Tensor loss;           // scalar, differentiable w.r.t. new_logprobs
  at::Tensor kl;             // mean k3 KL per token (detached)
  at::Tensor clip_fraction;  // share of tokens where the clipped branch was taken (detached)
  at::Tensor ratio_mean;     // mean importance ratio (detached)
  at::Tensor entropy;        // the aggregated entropy term (detached); undefined without entropy
};

// new_logprobs, old_logprobs, ref_logprobs, mask: [B, T] (mask 1 on
// completion tokens); advantages [B]. ref_logprobs may be undefined when
// kl_beta is 0. entropy [B, T] (differentiable: the policy's per-position
// entropy) is needed when entropy_coef > 0, and may be undefined otherwise.
GrpoLossTerms grpo_loss(const at::Tensor& new_logprobs, const at::Tensor& old_logprobs, const at::Tensor& ref_logprobs,
                        const at::Tensor& advantages, const at::Tensor& mask, const GrpoLossConfig& config,
                        const at::Tensor& entropy = at::Tensor());

}  // namespace upm
