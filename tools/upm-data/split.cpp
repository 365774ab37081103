// upm-data split: per-user chronological history / validation / test with
// tasks from held-out behavior, plus a user-level train / eval split (data/split.h).
// The knobs are SplitConfig's keys (--config F, --set k=v; --seed N is --set seed=N).
#include <iostream>
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/data/split.h"

namespace {

struct SplitOptions {
  upm::cli::ConfigOptions config;
  std::string input, output;
  bool strict = false;
};

upm::cli::RegisterSubcommand reg{
    "split", "split a user log into history / val / test tasks and train / eval users", [](CLI::App& cmd) {
      auto opts = std::make_shared<SplitOptions>();
      cmd.add_option("--input", opts->input, "user log (JSONL)")->required();
      cmd.add_option("--output", opts->output, "output directory")->required();
      upm::cli::add_config_options(cmd, opts->config, /*config_required=*/false);
      upm::cli::add_config_shortcuts(
          cmd, opts->config,
          {{"--seed", "seed", "random seed for negatives, option order and user split"},
           {"--val-fraction", "val_fraction", "share of each user's events for validation"},
           {"--test-fraction", "test_fraction", "share of each user's events for test"},
           {"--eval-user-fraction", "eval_user_fraction", "share of users held out of training"},
           {"--min-rating-gap", "min_rating_gap",
            "smallest rating difference (share of the scale) for a liked-vs-disliked pair"}});
      cmd.add_flag("--strict", opts->strict, "fail (exit 2) on the first bad record instead of skipping it");
      return [opts] {
        const auto config = upm::cli::load_job_config<upm::data::SplitConfig>(opts->config);
        std::cout << upm::data::run_split_job(opts->input, opts->output, config, opts->strict).dump(2) << std::endl;
        return upm::kExitOk;
      };
    }};

}  // namespace
