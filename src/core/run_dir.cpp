#include "upm/core/run_dir.h"

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/log.h"

namespace upm {

FileLock prepare_run_dir(const std::string& dir, const nlohmann::json& resolved_config) {
  make_directories(dir);
  FileLock lock(dir + "/run.lock", dir);
  write_file_atomic(dir + "/config.json", resolved_config.dump(2) + "\n");
  add_log_file(dir + "/log.txt");
  spdlog::info("run directory {}; resolved config:\n{}", dir, resolved_config.dump(2));
  return lock;
}

}  // namespace upm
