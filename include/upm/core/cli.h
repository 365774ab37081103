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

// Multi-command tools (upm-infer generate|score|tokenize, upm-data synth|split|...)
// keep one subcommand per file under tools/upm-NAME/. Each file registers
// itself at start-up, so adding a subcommand touches no shared file:
//
//   static upm::cli::RegisterSubcommand reg{"score", "per-token log-probs",
//       [](CLI::App& cmd) {
//         auto opts = std::make_shared<ScoreOptions>();
//         cmd.add_option("--model", opts->model)->required();
//         return [opts] { return score(*opts); };   // runs if chosen
//       }};
using SubcommandAction = std::function<int()>;
struct SubcommandSpec {
  std::string name;
  std::string description;
  // Adds the subcommand's options to `cmd` and returns what runs when chosen.
  std::function<SubcommandAction(CLI::App& cmd)> define;
};

struct RegisterSubcommand {
  RegisterSubcommand(std::string name, std::string description,
                     std::function<SubcommandAction(CLI::App& cmd)> define);
};

// main() of a multi-command tool: builds the app from the registered
// subcommands, requires exactly one, runs it through run().
int run_subcommands(const std::string& tool, const std::string& description, int argc, char** argv);

}  // namespace upm::cli
