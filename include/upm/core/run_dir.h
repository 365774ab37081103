#pragma once
// A run directory holds everything one job writes: the resolved config
// (config.json, every knob with the value used), the log (log.txt), metrics
// and checkpoints.

#include <string>

#include <nlohmann/json.hpp>

namespace upm {

// Creates `dir`, writes `resolved_config` to dir/config.json atomically and
// adds dir/log.txt to the logger.
void prepare_run_dir(const std::string& dir, const nlohmann::json& resolved_config);

}  // namespace upm
