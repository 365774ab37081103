// upm-data profile-rows --config F [--set k=v ...] [--input F] [--output F]: profile-writing SFT rows (history prompt
// -> <think>note</think>profile) from known profiles (see pipeline/teach/profile_rows.h).
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/teach/profile_rows.h"

namespace {

upm::cli::RegisterSubcommand reg{
    "profile-rows", "make SFT rows that teach a model to write profiles from histories (optionally degraded targets)",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<upm::cli::ConfigOptions>();
      upm::cli::add_config_options(cmd, *opts, /*config_required=*/false);
      upm::cli::add_config_shortcuts(
          cmd, *opts,
          {{"--input", "histories", "user logs (JSONL)"}, {"--output", "output", "rows (JSONL) for upm-train sft"}});
      return [opts] {
        upm::run_profile_rows(upm::cli::load_job_config<upm::ProfileRowsJob>(*opts));
        return upm::kExitOk;
      };
    }};

}  // namespace
