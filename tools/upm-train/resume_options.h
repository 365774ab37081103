#pragma once
// The options every upm-train trainer shares: --config F [--set k=v] (or the
// shortcuts --model/--input/--output for the trainer's keys), or --resume
// RUN_DIR (reads RUN_DIR/config.json, --set still applies), and --stop-after N
// (checkpoint and stop: staged runs).
#include <filesystem>
#include <string>
#include <vector>

#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/core/error.h"

namespace upm::cli {

struct TrainOptions {
  ConfigOptions config;
  std::string resume;
  int64_t stop_after = 0;
};

inline void add_train_options(CLI::App& cmd, TrainOptions& o, const std::vector<ConfigShortcut>& shortcuts) {
  add_config_options(cmd, o.config, /*config_required=*/false);
  add_config_shortcuts(cmd, o.config, shortcuts);
  cmd.add_option("--resume", o.resume, "continue the run in RUN_DIR from its newest checkpoint");
  cmd.add_option("--stop-after", o.stop_after, "checkpoint and stop after this step (staged runs)");
}

// The run's config: the file given (or the defaults when only keys are given),
// or the resolved config a resumed run wrote.
template <class Config>
Config load_train_config(const TrainOptions& o) {
  if (o.config.empty() && o.resume.empty()) throw InputError("give --config FILE, --resume RUN_DIR or the config keys");
  const std::string path = o.config.config.empty() && !o.resume.empty()
                               ? (std::filesystem::path(o.resume) / "config.json").string()
                               : o.config.config;
  std::vector<std::string> overrides = o.config.assignments();
  if (!o.resume.empty()) overrides.push_back("run_dir=" + o.resume);
  return load_config<Config>(path, overrides);
}

}  // namespace upm::cli
