// upm-data build-sft --config F [--set k=v ...] [--input HISTORY] [--output DIR]: SFT data by
// generate-validate-merge (see pipeline/teach/sft_data_builder.h); rerunning the
// same command resumes.
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/teach/sft_data_builder.h"

namespace {

int build_sft(const upm::cli::ConfigOptions& options) {
  auto config = upm::cli::load_job_config<upm::BuildSftConfig>(options);
  upm::run_build_sft(config);
  return upm::kExitOk;
}

upm::cli::RegisterSubcommand reg{
    "build-sft", "SFT rows by generate-validate-merge: teacher candidates, predictor validation, merge (resumable)",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<upm::cli::ConfigOptions>();
      upm::cli::add_config_options(cmd, *opts, /*config_required=*/false);
      upm::cli::add_config_shortcuts(cmd, *opts,
                                     {{"--input", "history", "user log the profiles are written from"},
                                      {"--output", "run_dir", "run folder (candidates, sft.jsonl, report)"}});
      return [opts] { return build_sft(*opts); };
    }};

}  // namespace
