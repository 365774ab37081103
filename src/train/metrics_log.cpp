#include "upm/train/metrics_log.h"

#include <filesystem>
#include <sstream>

#include "upm/core/atomic_file.h"
#include "upm/core/json_limits.h"

namespace upm {

MetricsLog::MetricsLog(const std::string& path, int64_t keep_through_step) {
  if (keep_through_step >= 0 && std::filesystem::exists(path)) {
    std::istringstream in(read_file(path));
    std::string line, kept;
    while (std::getline(in, line)) {
      auto record = parse_json_bounded(line, max_json_depth(), nullptr);
      // A torn or foreign line is dropped along with later steps.
      if (record.is_object() && record.value("step", int64_t(-1)) <= keep_through_step) kept += line + "\n";
    }
    write_file_atomic(path, kept);
  }
  file_ = std::make_unique<AppendFile>(path);
}

MetricsLog::~MetricsLog() = default;

void MetricsLog::write(const nlohmann::json& record) { file_->append_line(record.dump()); }

}  // namespace upm
