// upm-train embed --config F [--set k=v ...] [--model DIR] [--output DIR] [--resume RUN_DIR] [--stop-after N]
// Q-Anchor embedding training (InfoNCE + next-token loss; full, LoRA, or
// cluster soft prompts with the model frozen). Data-parallel when launched
// with torchrun's variables, one process per rank. See docs/embed.md.
#include <memory>

#include <spdlog/spdlog.h>

#include "resume_options.h"
#include "upm/dist/process_group.h"
#include "upm/model/model_runtime.h"
#include "upm/train/embed_config.h"
#include "upm/train/embed_trainer.h"

namespace {

int embed(const upm::cli::TrainOptions& o) {
  auto config = upm::cli::load_train_config<upm::EmbedTrainConfig>(o);
  auto dist = upm::join_ranks_from_environment(upm::runtime_device(config.runtime));
  upm::EmbedRunOptions options;
  options.resume = !o.resume.empty();
  options.stop_after_steps = o.stop_after;
  options.dist = dist.get();
  upm::EmbedTrainResult result = upm::run_embed_training(config, options);
  spdlog::info("done: {} steps, last loss {:.6f}, output {}", result.steps, result.last_loss, result.output_dir);
  return 0;
}

upm::cli::RegisterSubcommand reg{
    "embed", "Q-Anchor embedding training: InfoNCE + next-token loss (full, LoRA, or cluster soft prompts)",
    [](CLI::App& cmd) {
      auto o = std::make_shared<upm::cli::TrainOptions>();
      upm::cli::add_train_options(cmd, *o,
                                  {{"--model", "model", "model folder to train"},
                                   {"--output", "run_dir", "run folder (checkpoints, final model)"}});
      return [o] { return embed(*o); };
    }};

}  // namespace
