#pragma once
// Learning-rate schedules, as multipliers of the peak rate, matching Hugging
// Face's get_{constant,linear,cosine}_schedule_with_warmup so that recipes
// ported from transformers/TRL behave the same.

#include <cstdint>
#include <string>

#include "upm/core/config.h"

namespace upm {

struct LrScheduleConfig {
  std::string kind = "cosine";  // constant | linear | cosine
  int64_t warmup_steps = 0;     // linear ramp from 0 over these optimizer steps
  double min_lr_ratio = 0.0;    // floor of the decay, as a fraction of the peak
};
void describe(ConfigIO& io, LrScheduleConfig& c);

// Multiplier of the peak learning rate at optimizer step `step` (0-based: the
// rate used for the step-th update) of `total_steps`.
double lr_multiplier(const LrScheduleConfig& config, int64_t step, int64_t total_steps);

}  // namespace upm
