// upm-data split: per-user chronological history / validation / test with
// tasks from held-out behavior, plus a user-level train / eval split. The
// knobs are SplitConfig's keys (--config F, --set k=v; --seed N is --set seed=N).
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/data/split.h"
#include "upm/data/stats.h"

namespace {

struct SplitOptions {
  upm::cli::ConfigOptions config;
  std::string input, output;
  bool strict = false;
};

int run_split(const SplitOptions& options) {
  const auto config = upm::cli::load_job_config<upm::data::SplitConfig>(options.config);
  upm::make_directories(options.output);
  upm::data::ReadOptions read;
  read.strict = options.strict;
  read.rejects_path = options.output + "/rejects.jsonl";
  upm::data::ReadReport report;
  auto logs = upm::data::read_user_logs(options.input, read, &report);
  for (const auto& problem : report.problems) spdlog::warn("rejected: {}", problem);
  upm::data::require_accepted_records(report, options.input);
  auto split = upm::data::split_logs(logs, config);
  upm::data::write_split(split, config, options.output);
  nlohmann::json summary = upm::data::split_summary(split);
  summary["input"] = upm::data::read_report_json(report);
  std::cout << summary.dump(2) << std::endl;
  return upm::kExitOk;
}

upm::cli::RegisterSubcommand reg{
    "split", "split a user log into history / val / test tasks and train / eval users",
    [](CLI::App& cmd) {
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
      return [opts] { return run_split(*opts); };
    }};

}  // namespace
