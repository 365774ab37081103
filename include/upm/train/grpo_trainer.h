#pragma once
// The GRPO loop (`upm-train rl`):
//   sample a batch of users (BatchPlan over users, sharded by rank)
//   -> rollouts: G profiles per user (shared-prefix groups), old log-probs kept
//   -> rewards: the frozen judge on each user's held-out tasks (+ format and
//      length terms; streaming episodes add the stage-2 credit)
//      (dynamic_sampling: groups whose rewards are all equal are dropped and
//      more users rolled out, dynamic_sampling.h)
//   -> group-normalised advantages (reward.kl_coef: of the rewards less the
//      summed KL to the reference)
//   -> ppo_epochs x minibatches clipped-surrogate updates (grpo_update.h)
//   -> metrics (RUN_DIR/metrics.jsonl), held-out eval, checkpoints: one step
//      of the loop every trainer shares (train_loop.h), set up as they are
//      (trainable.h); the eval also runs before a fresh run's first step.
//
//   auto config = load_config<GrpoConfig>("rl.json");
//   GrpoResult r = run_grpo(config);   // RUN_DIR/final = trained policy (or PEFT adapter)
//
// The reference policy (for the KL term) is a frozen copy of the initial
// policy, or for LoRA the base with adapters disabled; it is not loaded when
// loss.kl_beta and reward.kl_coef are 0. Everything random is a function of (seed, step), so a
// resumed run repeats an uninterrupted one; only rank 0 writes.

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "upm/train/grpo_config.h"

namespace upm {

class Distributed;
class ProfileJudge;

struct GrpoRunOptions {
  bool resume = false;           // continue from the newest checkpoint of config.run_dir
  int64_t stop_after_steps = 0;  // > 0: checkpoint and return once this step is done
  Distributed* dist = nullptr;
  ProfileJudge* judge = nullptr;  // replaces the configured predictor (must outlive the run)
};

struct GrpoResult {
  int64_t steps = 0;
  double last_reward_mean = std::numeric_limits<double>::quiet_NaN();
  nlohmann::json initial_eval;  // eval_* metrics before the first step (null without eval users)
  nlohmann::json final_eval;    // after the last step
  std::string output_dir;       // final/ or the stop checkpoint
};

GrpoResult run_grpo(const GrpoConfig& config, const GrpoRunOptions& options = {});

}  // namespace upm
