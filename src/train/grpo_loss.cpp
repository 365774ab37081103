#include "upm/train/grpo_loss.h"

#include <torch/torch.h>

#include "upm/core/error.h"

namespace upm {

void describe(ConfigIO& io, GrpoLossConfig& c) {
  io.field("scale_by_std", c.scale_by_std);
  io.field("std_eps", c.std_eps).greater_than(0.0);
  io.field("clip_low", c.clip_low).at_least(0.0).at_most(1.0);
  io.field("clip_high", c.clip_high).at_least(0.0);
  io.field("kl_beta", c.kl_beta).at_least(0.0);
  io.field("kl_estimator", c.kl_estimator).one_of({"k1", "k2", "k3"});
  io.field("aggregation", c.aggregation).one_of({"token", "sequence", "sequence_sum"});
  io.field("mask_truncated", c.mask_truncated);
  io.field("entropy_coef", c.entropy_coef).at_least(0.0);
}

namespace {

// Token mean over the batch, or mean over sequences of each one's token mean
// (or token sum).
at::Tensor aggregate(const at::Tensor& per_token, const at::Tensor& m, const std::string& aggregation) {
  if (aggregation == "token") return (per_token * m).sum() / m.sum().clamp_min(1.0);
  at::Tensor sums = (per_token * m).sum(1);
  if (aggregation == "sequence_sum") return sums.mean();
  return (sums / m.sum(1).clamp_min(1.0)).mean();
}

}  // namespace

at::Tensor kl_estimate(const at::Tensor& new_logprobs, const at::Tensor& ref_logprobs, const std::string& estimator) {
  at::Tensor delta = ref_logprobs.detach() - new_logprobs;
  if (estimator == "k1") return -delta;
  if (estimator == "k2") return 0.5 * delta.pow(2);
  if (estimator == "k3") return delta.exp() - delta - 1.0;
  throw Error("kl_estimate: unknown estimator \"" + estimator + "\" (k1, k2, k3)");
}

at::Tensor kl_reward_penalty(const at::Tensor& new_logprobs, const at::Tensor& ref_logprobs, const at::Tensor& mask,
                             double coef, const std::string& estimator) {
  if (new_logprobs.sizes() != ref_logprobs.sizes() || new_logprobs.sizes() != mask.sizes() || new_logprobs.dim() != 2) {
    throw Error("kl_reward_penalty: expected new/ref log-probs and mask [B, T]");
  }
  torch::NoGradGuard no_grad;
  at::Tensor kl = kl_estimate(new_logprobs.to(torch::kDouble), ref_logprobs.to(torch::kDouble), estimator);
  return coef * (kl * mask.to(torch::kDouble)).sum(1);
}

at::Tensor group_advantages(const at::Tensor& rewards, int64_t group_size, const GrpoLossConfig& config) {
  if (rewards.dim() != 1 || group_size <= 0 || rewards.size(0) % group_size != 0) {
    throw Error("group_advantages: rewards must be [N * group_size], got " + std::to_string(rewards.numel()) +
                " rewards for groups of " + std::to_string(group_size));
  }
  at::Tensor r = rewards.to(torch::kDouble).view({-1, group_size});
  at::Tensor valid = r.isnan().logical_not();
  at::Tensor count = valid.sum(1, /*keepdim=*/true).to(torch::kDouble);
  at::Tensor filled = torch::where(valid, r, torch::zeros_like(r));
  at::Tensor mean = filled.sum(1, true) / count.clamp_min(1);
  at::Tensor centred = torch::where(valid, r - mean, torch::zeros_like(r));
  at::Tensor advantages = centred;
  if (config.scale_by_std) {
    at::Tensor var = centred.pow(2).sum(1, true) / (count - 1).clamp_min(1);
    advantages = centred / (var.sqrt() + config.std_eps);
  }
  return advantages.view({-1}).to(rewards.scalar_type());
}

GrpoLossTerms grpo_loss(const at::Tensor& new_logprobs, const at::Tensor& old_logprobs, const at::Tensor& ref_logprobs,
                        const at::Tensor& advantages, const at::Tensor& mask, const GrpoLossConfig& config,
                        const at::Tensor& entropy) {
  if (new_logprobs.sizes() != old_logprobs.sizes() || new_logprobs.sizes() != mask.sizes() || new_logprobs.dim() != 2 ||
      advantages.dim() != 1 || advantages.size(0) != new_logprobs.size(0)) {
    throw Error("grpo_loss: expected logprobs/mask [B, T] and advantages [B]");
  }
  at::Tensor m = mask.to(new_logprobs.scalar_type());
  at::Tensor a = advantages.to(new_logprobs.scalar_type()).unsqueeze(1);
  at::Tensor ratio = (new_logprobs - old_logprobs.detach()).exp();
  at::Tensor unclipped = ratio * a;
  at::Tensor clipped = ratio.clamp(1.0 - config.clip_low, 1.0 + config.clip_high) * a;
  at::Tensor per_token = -torch::min(unclipped, clipped);

  at::Tensor kl = torch::zeros_like(new_logprobs);
  if (config.kl_beta > 0.0 || ref_logprobs.defined()) {
    if (!ref_logprobs.defined()) throw Error("grpo_loss: kl_beta > 0 needs reference log-probs");
    kl = kl_estimate(new_logprobs, ref_logprobs, config.kl_estimator);
    if (config.kl_beta > 0.0) per_token = per_token + config.kl_beta * kl;
  }

  at::Tensor loss = aggregate(per_token, m, config.aggregation);
  at::Tensor entropy_term;
  if (config.entropy_coef > 0.0 || entropy.defined()) {
    if (!entropy.defined()) throw Error("grpo_loss: entropy_coef > 0 needs the policy's entropy");
    if (entropy.sizes() != new_logprobs.sizes()) throw Error("grpo_loss: expected entropy [B, T]");
    entropy_term = aggregate(entropy.to(new_logprobs.scalar_type()), m, config.aggregation);
    if (config.entropy_coef > 0.0) loss = loss - config.entropy_coef * entropy_term;
  }

  torch::NoGradGuard no_grad;
  at::Tensor tokens = m.sum().clamp_min(1.0);
  GrpoLossTerms terms;
  terms.loss = loss;
  terms.kl = (kl.detach() * m).sum() / tokens;
  terms.clip_fraction = ((clipped.detach() < unclipped.detach()).to(m.scalar_type()) * m).sum() / tokens;
  terms.ratio_mean = (ratio.detach() * m).sum() / tokens;
  if (entropy_term.defined()) terms.entropy = entropy_term.detach();
  return terms;
}

}  // namespace upm
