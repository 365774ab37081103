// upm-eval --config F [--set k=v ...] [--input BENCHMARK] [--output DIR]: held-out benchmark report (see
// pipeline/eval/evaluator.h). With RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set (torchrun's variables), one process per
// rank scores its share of the tasks; ranks meet on the first predictor's device (NCCL on CUDA, Gloo on the CPU).
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/eval/evaluator.h"
#include "upm/dist/process_group.h"

int main(int argc, char** argv) {
  CLI::App app{"Accuracy and P(correct) of predictors on a held-out benchmark, with bootstrap CIs", "upm-eval"};
  upm::cli::ConfigOptions config_options;
  upm::cli::add_config_options(app, config_options, /*config_required=*/false);
  upm::cli::add_config_shortcuts(
      app, config_options,
      {{"--input", "benchmark", "benchmark tasks (JSONL)"}, {"--output", "run_dir", "report folder"}});
  return upm::cli::run(app, argc, argv, [&] {
    auto config = upm::cli::load_job_config<upm::EvalConfig>(config_options);
    auto dist = upm::join_ranks_from_environment(
        config.predictors.empty() ? c10::Device(c10::kCPU) : upm::runtime_device(config.predictors.front().runtime));
    upm::EvalRunOptions options;
    options.dist = dist.get();
    upm::run_evaluation(config, options);
    return 0;
  });
}
