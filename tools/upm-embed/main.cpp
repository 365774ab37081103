// upm-embed: query-anchored user embeddings (docs/embed.md).
//   upm-embed --model DIR --input LOGS.jsonl --queries Q.jsonl --output EMB [--config F] [--set k=v] [--stop-after N]
//   upm-embed probe --embeddings EMB --labels LABELS.jsonl --output REPORT.json
// The embedding job is the tool's main form (docs/design.md); `probe` is the one
// subcommand, so the app takes zero or one subcommand.
#include <iostream>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/pipeline/embedding/embedding_job.h"
#include "probe_command.h"

int main(int argc, char** argv) {
  CLI::App app{"UPM query-anchored user embeddings: one history prefill, many task queries", "upm-embed"};
  app.require_subcommand(0, 1);
  upm::cli::ConfigOptions config_options;
  upm::cli::add_config_shortcuts(
      app, config_options,
      {{"--model", "model", "Hugging Face model folder (weights + tokenizer)"},
       {"--input", "input", "user logs (JSONL)"},
       {"--queries", "queries", "task queries (JSONL: query_id, text)"},
       {"--output", "output", "output prefix: writes OUTPUT.safetensors and OUTPUT.index.jsonl"}});
  upm::EmbedJobControl control;
  app.add_option("--stop-after", control.stop_after_users,
                 "stop once this many users are saved in OUTPUT.partial/ (whole chunks); a rerun resumes");
  upm::cli::add_config_options(app, config_options, false);
  auto probe = upm::tools::add_probe_command(app);

  return upm::cli::run(app, argc, argv, [&]() -> int {
    if (probe.command->parsed()) return probe.run();
    auto config = upm::cli::load_job_config<upm::EmbedJobConfig>(config_options);
    std::cout << upm::embed_job_summary(upm::run_embedding_job(config, control)).dump() << std::endl;
    return upm::kExitOk;
  });
}
