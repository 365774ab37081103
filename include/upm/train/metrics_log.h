#pragma once
// RUN_DIR/metrics.jsonl: one JSON object per logged step ({"step", "loss",
// "lr", "grad_norm", "tokens_per_s", ...}), appended one whole line per write.
// A resumed run first drops the lines of steps after its checkpoint, so that
// the file never holds a step twice.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace upm {

class AppendFile;

class MetricsLog {
 public:
  // Opens (creating) `path`; with `keep_through_step` >= 0, lines whose
  // "step" is larger are removed first.
  explicit MetricsLog(const std::string& path, int64_t keep_through_step = -1);
  ~MetricsLog();
  void write(const nlohmann::json& record);

 private:
  std::unique_ptr<AppendFile> file_;
};

}  // namespace upm
