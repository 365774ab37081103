#pragma once
// A run directory holds everything one job writes: the resolved config
// (config.json, every knob with the value used), the log (log.txt), metrics
// and checkpoints. One job at a time: RUN_DIR/run.lock is held while it runs.

#include <string>

#include <nlohmann/json.hpp>

#include "upm/core/file_lock.h"

namespace upm {

// Creates `dir`, locks it (InputError naming the holder's PID when another
// job has it), writes `resolved_config` to dir/config.json atomically and
// adds dir/log.txt to the logger. Keep the lock for the job's life.
[[nodiscard]] FileLock prepare_run_dir(const std::string& dir, const nlohmann::json& resolved_config);

}  // namespace upm
