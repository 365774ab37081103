#pragma once
// Shared command-line plumbing for the thin mains under tools/: the common
// flags (--config, --set, --log-level) and the one place where exceptions
// become exit codes (0 ok, 2 bad usage or input, 1 internal failure).
//
// The convention for jobs: a config struct (core/config.h) loaded from
// `--config F` (optional: without it the struct's defaults), then every
// `--set key=value`. The shortcuts `--model`, `--input`, `--output` are
// exactly `--set KEY=value` for the key the job's struct names (`model`,
// `run_dir`, `data.train_file`, ...), so no job reads a path outside its config.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "upm/core/config.h"

namespace upm::cli {

struct ConfigOptions {
  std::string config;                  // --config FILE (JSON)
  std::vector<std::string> overrides;  // --set a.b=c, repeatable
  std::vector<std::string> shortcuts;  // "key=value" from shortcut flags (--model, --input, --output)

  // What load_config applies: the shortcuts, then --set (so an explicit
  // --set of the same key wins).
  std::vector<std::string> assignments() const;
  bool empty() const { return config.empty() && overrides.empty() && shortcuts.empty(); }
};

// Adds --config and --set to `app`. `config_required` makes --config mandatory.
void add_config_options(CLI::App& app, ConfigOptions& options, bool config_required = true);

// A flag that is exactly `--set KEY=VALUE`, e.g. {"--output", "run_dir", "run folder"}.
// With `flag_value` it takes no value and sets KEY=flag_value
// ({"--category-first", "category_first", "...", "true"}).
struct ConfigShortcut {
  std::string flag;
  std::string key;
  std::string description;
  std::string flag_value;
};

// Adds each shortcut to `app`; its help names the key it sets.
void add_config_shortcuts(CLI::App& app, ConfigOptions& options, const std::vector<ConfigShortcut>& shortcuts);

// The job's config: the --config file (or the struct's defaults without one),
// then the shortcuts and --set.
template <class Config>
Config load_job_config(const ConfigOptions& options) {
  return load_config<Config>(options.config, options.assignments());
}

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
  RegisterSubcommand(std::string name, std::string description, std::function<SubcommandAction(CLI::App& cmd)> define);
};

// main() of a multi-command tool: builds the app from the registered
// subcommands, requires exactly one, runs it through run().
int run_subcommands(const std::string& tool, const std::string& description, int argc, char** argv);

}  // namespace upm::cli
