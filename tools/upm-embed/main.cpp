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
  upm::EmbedJobPaths paths;
  upm::cli::ConfigOptions config_options;
  app.add_option("--model", paths.model, "Hugging Face model folder (weights + tokenizer)");
  app.add_option("--input", paths.input, "user logs (JSONL)");
  app.add_option("--queries", paths.queries, "task queries (JSONL: query_id, text)");
  app.add_option("--output", paths.output, "output prefix: writes OUTPUT.safetensors and OUTPUT.index.jsonl");
  upm::EmbedJobControl control;
  app.add_option("--stop-after", control.stop_after_users,
                 "stop once this many users are saved in OUTPUT.partial/ (whole chunks); a rerun resumes");
  upm::cli::add_config_options(app, config_options, false);
  auto probe = upm::tools::add_probe_command(app);

  return upm::cli::run(app, argc, argv, [&]() -> int {
    if (probe.command->parsed()) return probe.run();
    for (const auto& [flag, value] : {std::pair<const char*, std::string*>{"--model", &paths.model},
                                      {"--input", &paths.input},
                                      {"--queries", &paths.queries},
                                      {"--output", &paths.output}}) {
      if (value->empty()) throw upm::InputError(upm::Location{"", 0, flag}, "required (see --help)");
    }
    auto config = upm::cli::load_job_config<upm::EmbedJobConfig>(config_options);
    upm::EmbedJobReport report = upm::run_embedding_job(paths, config, control);
    nlohmann::json summary{{"users", report.users},
                           {"rows", report.rows},
                           {"dim", report.dim},
                           {"history_tokens", report.history_tokens},
                           {"events_dropped", report.events_dropped},
                           {"marker", report.marker},
                           {"seconds", report.seconds},
                           {"resumed_users", report.resumed_users},
                           {"stopped", report.stopped}};
    std::cout << summary.dump() << std::endl;
    return upm::kExitOk;
  });
}
