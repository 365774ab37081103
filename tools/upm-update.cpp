// upm-update --model DIR --profiles P.jsonl --events NEW.jsonl --output OUT.jsonl [--config F] [--set k=v ...]
// Streaming profile update; rerunning the same command resumes (see pipeline/profile/updater.h).
#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/profile/updater.h"

int main(int argc, char** argv) {
  CLI::App app{"Fold new events into each user's profile (version n+1); resumable and idempotent", "upm-update"};
  bool resume = false;
  upm::cli::ConfigOptions config_options;
  upm::cli::add_config_shortcuts(
      app, config_options,
      {{"--model", "model", "model folder (config.json, safetensors, tokenizer)"},
       {"--profiles", "profiles", "current profiles (JSONL; latest version per user)"},
       {"--events", "events", "new events (user-log JSONL)"},
       {"--output", "output", "updated snapshot (JSONL), appended; errors to OUTPUT.errors.jsonl"}});
  app.add_flag("--resume", resume, "skip users already in OUTPUT (always done; the flag documents intent)");
  upm::cli::add_config_options(app, config_options, false);
  return upm::cli::run(app, argc, argv, [&] {
    auto config = upm::cli::load_job_config<upm::UpdateJobConfig>(config_options);
    return upm::job_exit_code(upm::run_update_job(config), "upm-update", config.events);
  });
}
