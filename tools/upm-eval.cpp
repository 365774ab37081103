// upm-eval --config F [--set k=v ...]: held-out benchmark report (see pipeline/evaluator.h).
#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/evaluator.h"

int main(int argc, char** argv) {
  CLI::App app{"Accuracy and P(correct) of predictors on a held-out benchmark, with bootstrap CIs", "upm-eval"};
  upm::cli::ConfigOptions config_options;
  upm::cli::add_config_options(app, config_options, true);
  return upm::cli::run(app, argc, argv, [&] {
    auto config = upm::load_config<upm::EvalConfig>(config_options.config, config_options.overrides);
    upm::run_evaluation(config);
    return 0;
  });
}
