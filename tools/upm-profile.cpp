// upm-profile --model DIR --input LOGS.jsonl --output PROFILES.jsonl [--config F] [--set k=v ...]
// Batch profile generation; rerunning the same command resumes (see pipeline/profile/profiler.h).
#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/pipeline/profile/profiler.h"

int main(int argc, char** argv) {
  CLI::App app{"Write a preference profile for every user of a user-log file (resumable)", "upm-profile"};
  bool resume = false;
  upm::cli::ConfigOptions config_options;
  upm::cli::add_config_shortcuts(
      app, config_options,
      {{"--model", "model", "model folder (config.json, safetensors, tokenizer)"},
       {"--input", "input", "user logs (JSONL, one user per line)"},
       {"--output", "output", "profiles (JSONL), appended; errors go to OUTPUT.errors.jsonl"}});
  app.add_flag("--resume", resume, "skip users already in OUTPUT (always done; the flag documents intent)");
  upm::cli::add_config_options(app, config_options, false);
  return upm::cli::run(app, argc, argv, [&] {
    auto config = upm::cli::load_job_config<upm::ProfileJobConfig>(config_options);
    return upm::job_exit_code(upm::run_profile_job(config), "upm-profile", config.input);
  });
}
