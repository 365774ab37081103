#pragma once
// The RL reward of one sampled policy output, apart from the predictor call:
// the AlignXplore+ output format (`<think>reasoning</think>` then the
// profile), length bounds, and how the terms combine. A malformed output gets
// the format penalty and no predictor call.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "upm/core/config.h"

namespace upm {

struct PolicyOutput {
  bool well_formed = false;
  std::string reasoning;  // inside <think>...</think>
  std::string profile;    // after </think>, trimmed
  std::string problem;    // why it is malformed (empty when well formed)
};

// Parses "<think>...</think> profile". Leading whitespace is allowed; the
// think block must come first, appear once and close; the profile must be
// non-empty. With `require_think` false a bare profile is accepted too.
PolicyOutput parse_policy_output(std::string_view text, bool require_think = true);

struct RewardConfig {
  std::string predictor_reward = "confidence";  // confidence: P(correct); accuracy: 0/1
  double predictor_weight = 1.0;
  double format_penalty = -1.0;    // total reward of a malformed output
  double length_weight = 0.0;      // multiplies the length term below
  int64_t min_profile_tokens = 0;  // length term: -(distance outside [min, max]) / max
  int64_t max_profile_tokens = 512;
  bool require_think = true;
  // Two-stage streaming episodes: the stage-1 sample that seeded stage 2
  // earns `seed_share` x the mean stage-2 reward; the others earn
  // `other_share` x that mean ("share", UPM's default) or `other_share`
  // itself ("constant", the published AlignXplore+ rule).
  double seed_share = 0.9;
  double other_share = 0.45;
  std::string streaming_credit = "share";
  // DAPO's soft overlong punishment (0 = off): a completion longer than
  // max_new_tokens - overlong_buffer_tokens loses overlong_penalty x its
  // overshoot / the buffer, reaching -overlong_penalty at max_new_tokens.
  int64_t overlong_buffer_tokens = 0;
  double overlong_penalty = 1.0;
  // KL in the reward (verl's use_kl_in_reward, kl_ctrl.kl_coef; 0 = off):
  // before the group advantages, each sample's reward loses kl_coef x the sum
  // over its completion tokens of the per-token KL estimate (kl_estimator:
  // k1, k2 or k3 as loss.kl_estimator; k1, verl's "kl", by default) of the
  // rollout policy from the reference. Applied by the GRPO trainer, which
  // holds the reference; the reward metrics leave it out (see reward_kl).
  double kl_coef = 0.0;
  std::string kl_estimator = "k1";
};
void describe(ConfigIO& io, RewardConfig& c);

struct RewardTerms {
  double predictor = 0.0;  // mean over the user's tasks (0 when malformed)
  double format = 0.0;     // 0, or format_penalty when malformed
  double length = 0.0;     // <= 0
  double streaming = 0.0;  // stage-1 share of stage-2 reward (two-stage episodes)
  double overlong = 0.0;   // <= 0: the soft overlong punishment
  double total = 0.0;
};

// Length term: 0 inside [min, max], else minus the relative overshoot.
double length_term(int64_t profile_tokens, const RewardConfig& config);

// Combines the terms of a well-formed output whose per-task predictor scores
// (P(correct) or 0/1, as configured) are `task_scores`.
RewardTerms combine_reward(const std::vector<double>& task_scores, int64_t profile_tokens, const RewardConfig& config);
// The reward of a malformed output.
RewardTerms malformed_reward(const RewardConfig& config);

// The soft overlong term of a completion of `tokens` tokens (0 when the
// buffer is 0 or the completion is short enough).
double overlong_term(int64_t tokens, int64_t max_new_tokens, const RewardConfig& config);
// Adds it to `terms` (its total included).
void add_overlong_term(RewardTerms& terms, int64_t tokens, int64_t max_new_tokens, const RewardConfig& config);

// Adds the streaming credit to stage-1 rewards: `seeded` is the index of the
// stage-1 sample whose profile seeded stage 2, `stage2_mean` the mean reward
// of the stage-2 samples.
void add_streaming_credit(std::vector<RewardTerms>& stage1, int64_t seeded, double stage2_mean,
                          const RewardConfig& config);

}  // namespace upm
