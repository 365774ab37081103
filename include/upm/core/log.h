#pragma once
// Logging through spdlog: one line per event, to stderr and optionally to a
// file in the run directory. UPM_LOG_LEVEL in the environment overrides the
// level (trace, debug, info, warn, error, off).

#include <string>

#include <spdlog/spdlog.h>

namespace upm {

struct LogOptions {
  std::string level = "info";
  std::string file;  // empty: stderr only
};

// Installs the default logger. Safe to call again (e.g. once the run
// directory is known, to add its log file).
void init_logging(const LogOptions& options);

// Adds a file sink to the current default logger.
void add_log_file(const std::string& path);

}  // namespace upm
