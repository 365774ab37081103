#include "probe_command.h"

#include <iostream>
#include <memory>

#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/pipeline/embedding/embedding_probe.h"

namespace upm::tools {

namespace {

struct ProbeOptions {
  std::string embeddings;
  std::string labels;
  std::string output;
  cli::ConfigOptions config;
};

int run_probe_command(const ProbeOptions& options) {
  auto config = cli::load_job_config<ProbeConfig>(options.config);
  std::vector<ProbeLabel> labels = read_probe_labels(options.labels);
  EmbeddingTable table = read_embedding_table(options.embeddings);
  nlohmann::json report = run_probe(table, labels, config);
  report["embeddings"] = options.embeddings;
  report["labels"] = options.labels;
  if (!options.output.empty()) write_file_atomic(options.output, report.dump(2) + "\n");
  std::cout << report.dump(2) << std::endl;
  return kExitOk;
}

}  // namespace

ProbeCommand add_probe_command(CLI::App& app) {
  auto options = std::make_shared<ProbeOptions>();
  CLI::App* cmd = app.add_subcommand("probe", "logistic-regression probe AUC/accuracy per task vs the query-free baseline");
  cmd->add_option("--embeddings", options->embeddings, "EMB prefix written by upm-embed")->required();
  cmd->add_option("--labels", options->labels, "labels JSONL: user_id, task, query_id, label")->required();
  cmd->add_option("--output", options->output, "report JSON (also printed)");
  cli::add_config_options(*cmd, options->config, false);
  return {cmd, [options] { return run_probe_command(*options); }};
}

}  // namespace upm::tools
