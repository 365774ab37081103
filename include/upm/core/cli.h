#pragma once
// Shared command-line plumbing for the thin mains under tools/: the common
// flags (--config, --set, --log-level) and the one place where exceptions
// become exit codes (0 ok, 2 bad usage or input, 1 internal failure).

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace upm::cli {

struct ConfigOptions {
  std::string config;                  // --config FILE (JSON)
  std::vector<std::string> overrides;  // --set a.b=c, repeatable
};

// Adds --config and --set to `app`. `config_required` makes --config mandatory.
void add_config_options(CLI::App& app, ConfigOptions& options, bool config_required = true);

// Parses argv, initialises logging, runs `body` and maps any exception to an
// exit code with a one-line "error: ..." on stderr. `body` returns the exit code.
int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace upm::cli
