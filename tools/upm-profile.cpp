// upm-profile --model DIR --input LOGS.jsonl --output PROFILES.jsonl [--config F] [--set k=v ...]
// Batch profile generation; rerunning the same command resumes (see pipeline/profile/profiler.h).
#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/infer/language_model.h"
#include "upm/pipeline/profile/profiler.h"

int main(int argc, char** argv) {
  CLI::App app{"Write a preference profile for every user of a user-log file (resumable)", "upm-profile"};
  std::string model, input, output;
  bool resume = false;
  upm::cli::ConfigOptions config_options;
  app.add_option("--model", model, "model folder (config.json, safetensors, tokenizer)")->required();
  app.add_option("--input", input, "user logs (JSONL, one user per line)")->required();
  app.add_option("--output", output, "profiles (JSONL), appended; errors go to OUTPUT.errors.jsonl")->required();
  app.add_flag("--resume", resume, "skip users already in OUTPUT (always done; the flag documents intent)");
  upm::cli::add_config_options(app, config_options, false);
  return upm::cli::run(app, argc, argv, [&] {
    auto config = upm::cli::load_job_config<upm::ProfileJobConfig>(config_options);
    spdlog::info("upm-profile config: {}", upm::config_to_json(config).dump());
    upm::LanguageModel lm = upm::load_language_model(model, config.runtime, config.prompt_format);
    return upm::job_exit_code(upm::run_profile_job(lm, config, input, output), "upm-profile", input);
  });
}
