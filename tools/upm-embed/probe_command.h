#pragma once
// `upm-embed probe`: linear-probe AUC / accuracy of embeddings per task,
// beside the query-free baseline rows (embedding_probe.h).

#include <functional>

#include <CLI/CLI.hpp>

namespace upm::tools {

struct ProbeCommand {
  CLI::App* command = nullptr;
  std::function<int()> run;
};

ProbeCommand add_probe_command(CLI::App& app);

}  // namespace upm::tools
