#include "probe_command.h"

#include <iostream>
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/pipeline/embedding/embedding_probe.h"

namespace upm::tools {

ProbeCommand add_probe_command(CLI::App& app) {
  auto options = std::make_shared<cli::ConfigOptions>();
  CLI::App* cmd =
      app.add_subcommand("probe", "logistic-regression probe AUC/accuracy per task vs the query-free baseline");
  cli::add_config_shortcuts(*cmd, *options,
                            {{"--embeddings", "embeddings", "EMB prefix written by upm-embed (required)"},
                             {"--labels", "labels", "labels JSONL: user_id, task, query_id, label (required)"},
                             {"--output", "output", "report JSON (also printed)"}});
  cli::add_config_options(*cmd, *options, false);
  return {cmd, [options] {
            std::cout << run_probe_job(cli::load_job_config<ProbeJobConfig>(*options)).dump(2) << std::endl;
            return kExitOk;
          }};
}

}  // namespace upm::tools
