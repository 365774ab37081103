#pragma once
// RL episodes of a batch of users: rollouts (G samples per prompt through
// the generator's shared-prefix groups, keeping the sampler's log-probs) and
// their rewards. One stage: profile prompt of the history -> G profiles,
// rewarded on the user's tasks. Two stages (streaming): then one stage-1
// sample per user (a seeded pick among the well-formed ones) seeds the update
// prompt with the second history slice -> G updated profiles, rewarded on the
// stage-2 tasks; stage-1 samples earn the streaming credit (seed_share x the
// mean stage-2 reward for the seed, other_share x for the others).
// Training samples with G > 1 at the configured temperature; evaluation runs
// the same code greedily with G = 1.

#include <cstdint>
#include <string>
#include <vector>

#include "upm/data/benchmark.h"
#include "upm/data/prompt_builder.h"
#include "upm/infer/generation_config.h"
#include "upm/train/profile_reward.h"
#include "upm/train/rl_episode.h"

namespace upm {

class Generator;
struct LanguageModel;
class ProfileJudge;

struct RolloutSample {
  int64_t group = 0;  // index into EpisodeBatch::prompts (G consecutive samples share it)
  int stage = 1;
  std::vector<int64_t> tokens;  // sampled completion (a final stop token included)
  std::vector<float> logprobs;  // the sampler's log p(token), raw distribution
  std::string text;
  bool truncated = false;  // cut by max_new_tokens (no stop token reached)
};

struct EpisodeSettings {
  int64_t group_size = 4;
  GenerationConfig generation;
  uint64_t sampling_seed = 0;  // sample g of the user at global position u draws from a stream of (seed, stage, u, g)
  uint64_t order_seed = 0;     // the judge's option order
  uint64_t pick_seed = 0;      // task subsets and the stage-2 seed sample
  int64_t max_tasks_per_user = 0;
  bool next_task_only = false;  // reward each stage on its first task only (reward_tasks below)
  bool streaming = false;
};

struct EpisodeBatch {
  std::vector<std::vector<int64_t>> prompts;            // per group
  std::vector<std::vector<data::BenchmarkTask>> tasks;  // per group: what its samples are rewarded on
  std::vector<RolloutSample> samples;                   // group-major, group_size per group
  std::vector<ScoredOutput> scored;                     // per sample
  std::vector<double> rewards;                          // per sample: terms.total (streaming credit included)
  int64_t generated_tokens = 0;
  int64_t judge_requests = 0;
  double rollout_seconds = 0;
  double reward_seconds = 0;
};

// The policy as the episodes see it.
struct PolicyHandle {
  Generator& generator;
  const LanguageModel& lm;             // tokenizer + prompt format (encode_prompt)
  const data::PromptBuilder& prompts;  // profile and update prompts
};

// `positions[i]`: the global position of users[i] in the step's batch (seeds
// depend on it, not on the rank, so that ranks split work without changing it).
EpisodeBatch run_episodes(PolicyHandle policy, const std::vector<const RlUser*>& users,
                          const std::vector<int64_t>& positions, ProfileJudge& judge, const RewardConfig& reward,
                          const EpisodeSettings& settings);

}  // namespace upm
