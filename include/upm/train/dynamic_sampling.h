#pragma once
// DAPO's dynamic sampling (verl's algorithm.filter_groups): a GRPO group whose
// rewards are all equal has zero advantage, so it adds nothing to the
// surrogate's gradient but still counts in the loss's normalisation. With
// dynamic sampling a step drops such groups and rolls out more users until it
// holds a full batch of groups with a spread, or a round limit is reached.
// The pieces are pure so that they can be checked by hand; the loop lives in
// the GRPO trainer.

#include <cstdint>
#include <vector>

#include "upm/core/config.h"
#include "upm/train/rollout.h"

namespace upm {

struct DynamicSamplingConfig {
  bool enabled = false;
  // Extra rollout rounds per step (verl's max_num_gen_batches - 1). When they
  // run out the step trains on the groups kept so far.
  int64_t max_rounds = 3;
};
void describe(ConfigIO& io, DynamicSamplingConfig& c);

// Per group of `group_size` consecutive rewards: whether it has a spread,
// i.e. two rewards that differ. NaN rewards (failed reward calls) are left
// out, as group_advantages leaves them out of its statistics: a group with
// fewer than two valid rewards gets zero advantage and has no spread.
std::vector<bool> groups_with_spread(const std::vector<double>& rewards, int64_t group_size);

// `flags` with only its first `limit` true entries left true.
std::vector<bool> first_flagged(std::vector<bool> flags, int64_t limit);

// Appends the groups of `from` whose `keep` flag is set (one flag per group;
// samples group-major, `group_size` per group) to `into`, renumbering them;
// token, request and time counters are added whole (they were spent).
void append_groups(EpisodeBatch& into, EpisodeBatch&& from, const std::vector<bool>& keep, int64_t group_size);

// `count` distinct indices of [0, n) in a seeded order: the users of a refill
// round.
std::vector<int64_t> draw_users(int64_t n, int64_t count, uint64_t seed);

}  // namespace upm
