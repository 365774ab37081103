#include "upm/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace upm {

void describe(ConfigIO& io, LrScheduleConfig& c) {
  io.field("kind", c.kind).one_of({"constant", "linear", "cosine"});
  io.field("warmup_steps", c.warmup_steps).at_least(0);
  io.field("min_lr_ratio", c.min_lr_ratio).at_least(0.0).at_most(1.0);
}

double lr_multiplier(const LrScheduleConfig& config, int64_t step, int64_t total_steps) {
  if (step < config.warmup_steps) {
    return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, config.warmup_steps));
  }
  if (config.kind == "constant") return 1.0;
  double progress = static_cast<double>(step - config.warmup_steps) /
                    static_cast<double>(std::max<int64_t>(1, total_steps - config.warmup_steps));
  progress = std::clamp(progress, 0.0, 1.0);
  double decay = config.kind == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * decay;
}

}  // namespace upm
