#pragma once
// Sums over an episode batch that make the RL metrics: reward terms,
// predictor accuracy, profile lengths. Sums (not means) so that ranks can
// add theirs together before anything is divided.

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/train/rollout.h"

namespace upm {

class Distributed;

struct RlSums {
  double samples = 0, reward = 0, reward_sq = 0;
  double predictor = 0, format = 0, length = 0, streaming = 0, overlong = 0, truncated = 0;
  double well_formed = 0, tasks = 0, tasks_judged = 0, correct = 0, p_correct = 0;
  double profile_tokens = 0, completion_tokens = 0, judge_requests = 0;
  // Per GRPO group: the learning signal lives in the differences within a
  // group, so a group whose samples all score the same teaches nothing.
  double groups = 0, zero_std_groups = 0, group_std = 0, distinct_samples = 0;

  void add(const EpisodeBatch& batch);
  // Element-wise sum over ranks (no-op without `dist`).
  void sum_over_ranks(Distributed* dist);

  // reward_mean, reward_std, reward_predictor/format/length/streaming/overlong
  // (means per sample), truncated (share cut by max_new_tokens), format_ok
  // (share well formed), predictor_accuracy and
  // predictor_p_correct (over judged tasks), accuracy (over every task, a
  // malformed output counting as wrong), profile_tokens (mean over well-formed
  // outputs), completion_tokens (mean), group_reward_std (mean std of the
  // rewards within a group), frac_reward_zero_std (share of groups whose
  // samples all got the same reward: no gradient from them), distinct_samples
  // (mean share of a group's samples that differ from every earlier one),
  // with `prefix` before each name.
  nlohmann::json metrics(const std::string& prefix = "") const;

 private:
  void add_groups(const EpisodeBatch& batch);
};

}  // namespace upm
