#pragma once
// The loop every trainer shares (SFT, GRPO, embedding training): resume
// point, batch plan walk, scheduled learning rate, metrics.jsonl, periodic
// eval, checkpoints (checkpoint.h), staged stops and the final folder. A
// trainer supplies only what differs: how one optimizer step is computed on a
// global batch of example indices (SFT's micro-batches, GRPO's rollouts and
// learner update), how an eval is run and which files make up its model.
//
//   RunStart run = start_run(...);  // trainable.h: the resume point, before building anything
//   ... build model, optimizer; TrainerState state = start_state(optimizer, run.resume_from, seed, dist);
//   TrainLoopResult r = run_train_loop(settings, plan, state, optimizer, hooks);

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/train/batch_plan.h"
#include "upm/train/checkpoint.h"
#include "upm/train/lr_schedule.h"

namespace upm {

class AdamW;

struct TrainLoopSettings {
  std::string run_dir;
  int64_t total_steps = 0;
  double peak_lr = 0.0;
  LrScheduleConfig schedule;
  int64_t log_every = 1;
  int64_t eval_every = 0;      // 0: eval only at the end
  bool eval_at_start = false;  // also eval before a fresh run's first step (a metrics line of step 0)
  int64_t save_every = 0;      // 0: checkpoint only at the end
  int64_t keep_checkpoints = 2;
  int64_t stop_after_steps = 0;  // > 0: checkpoint and return after this step
  bool writer = true;            // this process writes the run directory (rank 0)
  std::string name = "train";    // progress label
};

// The settings that every trainer config spells alike (max_steps, or epochs
// where the config has them, optimizer.lr, schedule, log / save cadence,
// checkpoints kept); the caller sets what differs (eval_every, writer).
template <class Config>
TrainLoopSettings loop_settings(const Config& config, int64_t batches_per_epoch, int64_t stop_after_steps,
                                std::string name) {
  TrainLoopSettings settings;
  settings.run_dir = config.run_dir;
  if constexpr (requires { config.epochs; }) {
    settings.total_steps = config.max_steps > 0 ? config.max_steps : config.epochs * batches_per_epoch;
  } else {
    settings.total_steps = config.max_steps;
  }
  settings.peak_lr = config.optimizer.lr;
  settings.schedule = config.schedule;
  settings.log_every = config.log_every;
  settings.save_every = config.save_every;
  settings.keep_checkpoints = config.keep_checkpoints;
  settings.stop_after_steps = stop_after_steps;
  settings.name = std::move(name);
  return settings;
}

struct StepReport {
  double loss = 0.0;
  int64_t tokens = 0;                                // tokens processed (for tokens_per_s); 0 = not reported
  nlohmann::json fields = nlohmann::json::object();  // extra metrics of the step
};

struct TrainLoopHooks {
  // One optimizer step on the global batch `batch` (example indices) at `lr`;
  // `done` steps came before it (what per-step seeds derive from).
  std::function<StepReport(const std::vector<int64_t>& batch, double lr, int64_t done)> step;
  // Held-out metrics ("eval_loss", "eval_reward_mean", ...), merged into the
  // step's metrics line; empty = no eval.
  std::function<nlohmann::json()> eval;
  // Fills a (temporary) folder with the model / adapter files of a checkpoint or final/.
  std::function<void(const std::string& dir)> write_model;
};

struct TrainLoopResult {
  int64_t steps = 0;
  double last_loss = std::numeric_limits<double>::quiet_NaN();
  nlohmann::json initial_eval;  // the eval before the first step (eval_at_start; null otherwise)
  nlohmann::json last_eval;     // the latest eval's metrics (null if none ran)
  bool stopped = false;         // returned at stop_after_steps (output_dir is that checkpoint)
  std::string output_dir;       // final/ or the stop checkpoint ("" on non-writers)
};

// RUN_DIR/checkpoints.
std::string checkpoints_dir(const std::string& run_dir);

// Steps `state` to settings.total_steps (or stop_after_steps). A checkpoint
// holds the optimizer, RNG, data position and the hook's model files.
TrainLoopResult run_train_loop(const TrainLoopSettings& settings, const BatchPlan& plan, TrainerState state,
                               const AdamW& optimizer, const TrainLoopHooks& hooks);

}  // namespace upm
