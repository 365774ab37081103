#pragma once
// What one RL user is: the history slices the policy reads and the held-out
// tasks each stage is rewarded on.
//
// One-stage episodes: stage 1 reads the whole history; every task of the
// user rewards it. Two-stage (streaming) episodes: the chronological history
// is cut at `stage1_fraction`; stage 1 profiles the first slice, stage 2
// updates the chosen stage-1 profile with the second slice. A task whose
// "stage" field is 1 follows the first slice (it rewards stage 1); the other
// tasks follow the whole history (they reward stage 2, and stage 1 too when a
// user has no stage-1 task).

#include <cstdint>
#include <string>
#include <vector>

#include "upm/data/benchmark.h"
#include "upm/data/event.h"

namespace upm {

struct RlDataConfig;

struct RlUser {
  std::string user_id;
  std::vector<data::Event> stage1_events;  // chronological
  std::vector<data::Event> stage2_events;  // streaming only
  std::vector<data::BenchmarkTask> stage1_tasks;
  std::vector<data::BenchmarkTask> stage2_tasks;  // streaming only
};

// Users of `users_path` that have tasks in `tasks_path`, in log order; both
// files are read strictly (a bad line is an InputError naming it). Users
// without tasks are left out (counted in `skipped`, when given).
std::vector<RlUser> load_rl_users(const std::string& users_path, const std::string& tasks_path, bool streaming,
                                  double stage1_fraction, int64_t* skipped = nullptr);

// At most `limit` tasks of `tasks` (all when limit <= 0 or enough), a seeded
// pick that keeps file order.
std::vector<data::BenchmarkTask> pick_tasks(const std::vector<data::BenchmarkTask>& tasks, int64_t limit,
                                            uint64_t seed);

// The tasks a stage's samples are rewarded on: the first one in file order
// (the stage's next target) when `next_only`, else pick_tasks.
std::vector<data::BenchmarkTask> reward_tasks(const std::vector<data::BenchmarkTask>& tasks, bool next_only,
                                              int64_t limit, uint64_t seed);

}  // namespace upm
