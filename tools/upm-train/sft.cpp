// upm-train sft --config F [--set k=v ...] [--model DIR] [--input F] [--output DIR] [--resume RUN_DIR] [--stop-after N]
// Data-parallel when launched with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set
// (torchrun's variables), one process per rank.
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "resume_options.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/model/model_runtime.h"
#include "upm/dist/process_group.h"
#include "upm/train/sft_config.h"
#include "upm/train/sft_trainer.h"

namespace {

int sft(const upm::cli::TrainOptions& o) {
  auto config = upm::cli::load_train_config<upm::SftConfig>(o);

  auto dist = upm::join_ranks_from_environment(upm::runtime_device(config.runtime));
  upm::SftRunOptions options;
  options.resume = !o.resume.empty();
  options.stop_after_steps = o.stop_after;
  options.dist = dist.get();
  upm::SftResult result = upm::run_sft(config, options);
  spdlog::info("done: {} steps, last loss {:.6f}, eval loss {:.6f}, output {}", result.steps, result.last_loss,
               result.eval_loss, result.output_dir);
  return 0;
}

upm::cli::RegisterSubcommand reg{
    "sft", "supervised fine-tuning (full or LoRA) on prompt/completion or chat rows", [](CLI::App& cmd) {
      auto o = std::make_shared<upm::cli::TrainOptions>();
      upm::cli::add_train_options(cmd, *o,
                                  {{"--model", "model", "model folder to fine-tune"},
                                   {"--input", "data.train_file", "training rows (JSONL)"},
                                   {"--output", "run_dir", "run folder (checkpoints, final model)"}});
      return [o] { return sft(*o); };
    }};

}  // namespace
