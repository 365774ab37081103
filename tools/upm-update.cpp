// upm-update --model DIR --profiles P.jsonl --events NEW.jsonl --output OUT.jsonl [--config F] [--set k=v ...]
// Streaming profile update; rerunning the same command resumes (see pipeline/profile/updater.h).
#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/infer/language_model.h"
#include "upm/pipeline/profile/updater.h"

int main(int argc, char** argv) {
  CLI::App app{"Fold new events into each user's profile (version n+1); resumable and idempotent", "upm-update"};
  std::string model, profiles, events, output;
  bool resume = false;
  upm::cli::ConfigOptions config_options;
  app.add_option("--model", model, "model folder (config.json, safetensors, tokenizer)")->required();
  app.add_option("--profiles", profiles, "current profiles (JSONL; latest version per user)")->required();
  app.add_option("--events", events, "new events (user-log JSONL)")->required();
  app.add_option("--output", output, "updated snapshot (JSONL), appended; errors to OUTPUT.errors.jsonl")->required();
  app.add_flag("--resume", resume, "skip users already in OUTPUT (always done; the flag documents intent)");
  upm::cli::add_config_options(app, config_options, false);
  return upm::cli::run(app, argc, argv, [&] {
    auto config = upm::cli::load_job_config<upm::UpdateJobConfig>(config_options);
    spdlog::info("upm-update config: {}", upm::config_to_json(config).dump());
    upm::LanguageModel lm = upm::load_language_model(model, config.runtime, config.prompt_format);
    return upm::job_exit_code(upm::run_update_job(lm, config, profiles, events, output), "upm-update", events);
  });
}
