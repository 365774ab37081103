#include "upm/pipeline/teach/history_stages.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace upm {

StageBounds stage_bounds(size_t n, const StageConfig& config) {
  if (config.split == "thirds") {
    const size_t q = n / 3, r = n % 3;
    const size_t first = q + (r > 0 ? 1 : 0);
    return {first, first + q + (r > 1 ? 1 : 0)};
  }
  size_t first = n;
  if (config.update_rows && n >= 2) {
    first = size_t(std::llround(config.first_fraction * double(n)));
    first = std::clamp<size_t>(first, 1, n - 1);
  }
  return {first, n};
}

std::vector<int> task_stages(const std::vector<data::BenchmarkTask>& tasks, const std::vector<data::Event>& events,
                             const StageBounds& bounds) {
  std::map<std::string, int> stage_of;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].id.empty()) continue;
    stage_of[events[i].id] = i < bounds.first_end ? 1 : i < bounds.second_end ? 2 : 3;
  }
  std::vector<int> out;
  for (const auto& task : tasks) {
    int stage = 0;
    const auto ids = task.extra.find("event_ids");
    if (ids != task.extra.end() && ids->is_array() && !ids->empty()) {
      for (const auto& id : *ids) {
        const auto it = id.is_string() ? stage_of.find(id.get<std::string>()) : stage_of.end();
        if (it == stage_of.end() || (stage != 0 && it->second != stage)) {
          stage = 0;
          break;
        }
        stage = it->second;
      }
    }
    out.push_back(stage);
  }
  return out;
}

}  // namespace upm
