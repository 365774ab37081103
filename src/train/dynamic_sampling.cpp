#include "upm/train/dynamic_sampling.h"

#include <cmath>

#include "upm/core/error.h"
#include "upm/core/random.h"

namespace upm {

void describe(ConfigIO& io, DynamicSamplingConfig& c) {
  io.field("enabled", c.enabled);
  io.field("max_rounds", c.max_rounds).at_least(0);
}

std::vector<bool> groups_with_spread(const std::vector<double>& rewards, int64_t group_size) {
  if (group_size <= 0 || rewards.size() % size_t(group_size) != 0) {
    throw Error("groups_with_spread: " + std::to_string(rewards.size()) + " rewards for groups of " +
                std::to_string(group_size));
  }
  std::vector<bool> out(rewards.size() / size_t(group_size), false);
  for (size_t g = 0; g < out.size(); ++g) {
    bool seen = false;
    double first = 0;
    for (size_t k = g * size_t(group_size); k < (g + 1) * size_t(group_size) && !out[g]; ++k) {
      if (std::isnan(rewards[k])) continue;
      if (!seen) {
        first = rewards[k];
        seen = true;
      } else if (rewards[k] != first) {
        out[g] = true;
      }
    }
  }
  return out;
}

std::vector<bool> first_flagged(std::vector<bool> flags, int64_t limit) {
  int64_t taken = 0;
  for (size_t i = 0; i < flags.size(); ++i) {
    if (!flags[i]) continue;
    if (taken < limit) {
      ++taken;
    } else {
      flags[i] = false;
    }
  }
  return flags;
}

void append_groups(EpisodeBatch& into, EpisodeBatch&& from, const std::vector<bool>& keep, int64_t group_size) {
  const size_t G = size_t(group_size);
  if (keep.size() != from.prompts.size() || from.samples.size() != keep.size() * G) {
    throw Error("append_groups: one flag per group of " + std::to_string(group_size) + " samples");
  }
  for (size_t g = 0; g < keep.size(); ++g) {
    if (!keep[g]) continue;
    const int64_t group = int64_t(into.prompts.size());
    into.prompts.push_back(std::move(from.prompts[g]));
    into.tasks.push_back(std::move(from.tasks[g]));
    for (size_t k = g * G; k < (g + 1) * G; ++k) {
      RolloutSample sample = std::move(from.samples[k]);
      sample.group = group;
      into.samples.push_back(std::move(sample));
      into.scored.push_back(std::move(from.scored[k]));
      into.rewards.push_back(from.rewards[k]);
    }
  }
  into.generated_tokens += from.generated_tokens;
  into.judge_requests += from.judge_requests;
  into.rollout_seconds += from.rollout_seconds;
  into.reward_seconds += from.reward_seconds;
}

std::vector<int64_t> draw_users(int64_t n, int64_t count, uint64_t seed) {
  if (count > n) throw Error("draw_users: " + std::to_string(count) + " of " + std::to_string(n) + " users");
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[size_t(i)] = i;
  seeded_shuffle(all, seed);
  all.resize(size_t(count));
  return all;
}

}  // namespace upm
