#pragma once
// The published AlignXplore+ filter on validation targets
// (validate.target_filter): a round validates only on targets that the
// predictor already answers right from the user's full raw history (the
// predict_history prompt) with P(correct option) > min_p, at most
// max_targets of them (in the tasks file's order); a user with fewer than
// min_targets such targets for a round is dropped. Targets the history does
// not settle say little about whether a profile captured the user.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "upm/core/config.h"

namespace upm {

struct TargetFilterConfig {
  bool enabled = false;
  double min_p = 0.9;       // P(correct option) from the history must exceed this
  int64_t max_targets = 5;  // per round, the first ones that qualify
  int64_t min_targets = 3;  // per round; fewer drops the user
};

inline void describe(ConfigIO& io, TargetFilterConfig& c) {
  io.field("enabled", c.enabled);
  io.field("min_p", c.min_p).at_least(0.0).at_most(1.0);
  io.field("max_targets", c.max_targets).greater_than(0);
  io.field("min_targets", c.min_targets).greater_than(0);
  if (io.reading() && c.min_targets > c.max_targets) {
    io.fail("min_targets", "must be <= max_targets (" + std::to_string(c.max_targets) + ")");
  }
}

// Of a round's candidate targets (in order), with the predictor's answers
// from the history (`correct`, `p_correct` per target), the indices of those
// kept: correct and p_correct > min_p, the first max_targets. Whether the
// user has enough is the caller's check against min_targets.
std::vector<size_t> select_targets(const std::vector<bool>& correct, const std::vector<double>& p_correct,
                                   const TargetFilterConfig& config);

}  // namespace upm
