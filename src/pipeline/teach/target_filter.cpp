#include "upm/pipeline/teach/target_filter.h"

namespace upm {

std::vector<size_t> select_targets(const std::vector<bool>& correct, const std::vector<double>& p_correct,
                                   const TargetFilterConfig& config) {
  std::vector<size_t> kept;
  for (size_t i = 0; i < correct.size() && int64_t(kept.size()) < config.max_targets; ++i) {
    if (correct[i] && p_correct[i] > config.min_p) kept.push_back(i);
  }
  return kept;
}

}  // namespace upm
