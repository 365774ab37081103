#pragma once
// The GRPO objective, as pure tensor functions so that it can be checked
// against a reference and reused by every RL recipe:
//   * group-normalised advantages (GRPO: (r - mean) / (std + eps); Dr. GRPO:
//     r - mean only),
//   * the clipped importance-ratio surrogate (PPO-style, asymmetric bounds
//     allowed as in DAPO),
//   * a KL penalty to the reference policy, by one of Schulman's estimators
//     (d = ref - new): k1 = -d (unbiased, can be negative), k2 = d^2 / 2,
//     k3 = exp(d) - d - 1 (unbiased, always >= 0; the default, verl's
//     low_var_kl, TRL's),
//   * an optional entropy bonus (minus entropy_coef x the policy's mean
//     per-token entropy), which keeps a group's samples diverse: without it a
//     small policy can collapse onto one answer for every prompt, after which
//     all groups have equal rewards and no gradient is left to undo it,
//   * token-level or sequence-level aggregation (verl's token-mean,
//     seq-mean-token-mean and seq-mean-token-sum).

#include <string>

#include <ATen/core/Tensor.h>

#include "upm/core/config.h"

namespace upm {

struct GrpoLossConfig {
  bool scale_by_std = true;  // false = Dr. GRPO (mean-centred only)
  double std_eps = 1e-4;     // added to the group std
  double clip_low = 0.2;     // ratio clipped to [1 - clip_low, 1 + clip_high]
  double clip_high = 0.2;
  double kl_beta = 0.0;             // AlignXplore+ trains with 0
  std::string kl_estimator = "k3";  // k1 | k2 | k3 (above)
  // "token": mean over all completion tokens of the batch (long answers
  // weigh by their length, DAPO / Dr. GRPO); "sequence": mean over sequences
  // of each sequence's token mean (the original GRPO); "sequence_sum": mean
  // over sequences of each sequence's token sum (verl's seq-mean-token-sum:
  // a sequence's gradient grows with its length, no per-length division).
  std::string aggregation = "token";
  // DAPO's overlong filtering: samples cut by max_new_tokens take no part in
  // the update (they still count in their group's reward statistics).
  bool mask_truncated = false;
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

// The per-token KL estimate of new from ref (see kl_estimator above).
at::Tensor kl_estimate(const at::Tensor& new_logprobs, const at::Tensor& ref_logprobs, const std::string& estimator);

// KL in the reward: per sequence, coef x the sum over its completion tokens
// (mask [B, T], 1 on them) of the KL estimate -> [B], the amount taken off
// each sample's reward before group_advantages (fp64, detached).
at::Tensor kl_reward_penalty(const at::Tensor& new_logprobs, const at::Tensor& ref_logprobs, const at::Tensor& mask,
                             double coef, const std::string& estimator);

struct GrpoLossTerms {
  at::Tensor loss;           // scalar, differentiable w.r.t. new_logprobs
  at::Tensor kl;             // mean KL estimate per token (detached)
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
