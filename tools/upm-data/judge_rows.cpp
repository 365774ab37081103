// upm-data judge-rows --config F [--set k=v ...] [--output F]: training rows for a predictor (judge) model
// from benchmark tasks and known profiles (see pipeline/teach/judge_data.h).
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/teach/judge_data.h"

namespace {

upm::cli::RegisterSubcommand reg{
    "judge-rows", "make SFT rows that teach a model to be the predictor (profile + task -> option label)",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<upm::cli::ConfigOptions>();
      upm::cli::add_config_options(cmd, *opts, /*config_required=*/false);
      upm::cli::add_config_shortcuts(cmd, *opts, {{"--output", "output", "rows (JSONL) for upm-train sft"}});
      return [opts] {
        auto job = upm::cli::load_job_config<upm::JudgeRowsJob>(*opts);
        upm::run_judge_rows(job);
        return upm::kExitOk;
      };
    }};

}  // namespace
