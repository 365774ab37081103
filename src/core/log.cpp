#include "upm/core/log.h"

#include <cstdlib>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "upm/core/error.h"

namespace upm {

namespace {

spdlog::level::level_enum parse_level(const std::string& name) {
  auto level = spdlog::level::from_str(name);
  // from_str maps unknown names to "off"; only "off" itself may mean that.
  if (level == spdlog::level::off && name != "off") {
    throw InputError(Location{"", 0, "log_level"},
                     "unknown level \"" + name + "\" (trace, debug, info, warn, error, off)");
  }
  return level;
}

}  // namespace

void init_logging(const LogOptions& options) {
  std::string level = options.level;
  if (const char* env = std::getenv("UPM_LOG_LEVEL"); env && *env) level = env;
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!options.file.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
  }
  auto logger = std::make_shared<spdlog::logger>("upm", sinks.begin(), sinks.end());
  logger->set_level(parse_level(level));
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void add_log_file(const std::string& path) {
  auto logger = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger->sinks().push_back(sink);
}

}  // namespace upm
