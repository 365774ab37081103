// upm-train rl --config F [--set k=v ...] [--resume RUN_DIR] [--stop-after N]
// GRPO with the predictor's reward. Data-parallel when launched with
// RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set (torchrun's variables).
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/model/model_runtime.h"
#include "upm/dist/process_group.h"
#include "upm/train/grpo_config.h"
#include "upm/train/grpo_trainer.h"

namespace {

struct RlOptions {
  upm::cli::ConfigOptions config;
  std::string resume;
  int64_t stop_after = 0;
};

int rl(const RlOptions& o) {
  if (o.config.config.empty() && o.resume.empty()) throw upm::InputError("give --config FILE or --resume RUN_DIR");
  // A resumed run reads the resolved config its first part wrote; --set may still change knobs.
  const std::string path = o.config.config.empty() ? (std::filesystem::path(o.resume) / "config.json").string()
                                                   : o.config.config;
  std::vector<std::string> overrides = o.config.overrides;
  if (!o.resume.empty()) overrides.push_back("run_dir=" + o.resume);
  auto config = upm::load_config<upm::GrpoConfig>(path, overrides);

  std::unique_ptr<upm::Distributed> dist;
  if (auto env = upm::distributed_env_from_environment()) {
    dist = std::make_unique<upm::Distributed>(*env, upm::runtime_device(config.runtime));
  }
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
      auto o = std::make_shared<RlOptions>();
      upm::cli::add_config_options(cmd, o->config, /*config_required=*/false);
      cmd.add_option("--resume", o->resume, "continue the run in RUN_DIR from its newest checkpoint");
      cmd.add_option("--stop-after", o->stop_after, "checkpoint and stop after this step (staged runs)");
      return [o] { return rl(*o); };
    }};

}  // namespace
