// upm-train rl --config F [--set k=v ...] [--model DIR] [--output DIR] [--resume RUN_DIR] [--stop-after N]
// GRPO with the predictor's reward. Data-parallel when launched with
// RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set (torchrun's variables).
#include <memory>

#include <spdlog/spdlog.h>

#include "resume_options.h"
#include "upm/dist/process_group.h"
#include "upm/model/model_runtime.h"
#include "upm/train/grpo_config.h"
#include "upm/train/grpo_trainer.h"

namespace {

int rl(const upm::cli::TrainOptions& o) {
  auto config = upm::cli::load_train_config<upm::GrpoConfig>(o);

  auto dist = upm::join_ranks_from_environment(upm::runtime_device(config.runtime));
  upm::GrpoRunOptions options;
  options.resume = !o.resume.empty();
  options.stop_after_steps = o.stop_after;
  options.dist = dist.get();
  upm::GrpoResult result = upm::run_grpo(config, options);
  spdlog::info("done: {} steps, last reward mean {:.4f}, output {}", result.steps, result.last_reward_mean,
               result.output_dir);
  if (!result.final_eval.is_null()) spdlog::info("held-out: {}", result.final_eval.dump());
  return 0;
}

upm::cli::RegisterSubcommand reg{
    "rl", "GRPO: profiles rewarded by a frozen predictor's accuracy on held-out behavior", [](CLI::App& cmd) {
      auto o = std::make_shared<upm::cli::TrainOptions>();
      upm::cli::add_train_options(cmd, *o,
                                  {{"--model", "policy", "policy model folder"},
                                   {"--output", "run_dir", "run folder (checkpoints, final model)"}});
      return [o] { return rl(*o); };
    }};

}  // namespace
