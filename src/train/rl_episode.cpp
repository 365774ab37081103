#include "upm/train/rl_episode.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "upm/core/error.h"
#include "upm/core/random.h"
#include "upm/data/user_log.h"

namespace upm {

namespace {

bool is_stage1_task(const data::BenchmarkTask& task) {
  auto it = task.extra.find("stage");
  return it != task.extra.end() && it->is_number_integer() && it->get<int64_t>() == 1;
}

}  // namespace

std::vector<RlUser> load_rl_users(const std::string& users_path, const std::string& tasks_path, bool streaming,
                                  double stage1_fraction, int64_t* skipped) {
  data::ReadOptions strict;
  strict.strict = true;
  const std::vector<data::UserLog> logs = data::read_user_logs(users_path, strict);
  std::map<std::string, std::vector<data::BenchmarkTask>> tasks_of;
  for (auto& task : data::read_benchmark(tasks_path, strict)) tasks_of[task.user_id].push_back(std::move(task));

  std::vector<RlUser> users;
  int64_t without_tasks = 0;
  for (const auto& log : logs) {
    auto it = tasks_of.find(log.user_id);
    if (it == tasks_of.end() || log.events.empty()) {
      ++without_tasks;
      continue;
    }
    RlUser user;
    user.user_id = log.user_id;
    std::vector<data::Event> events = data::chronological(log.events);
    if (!streaming) {
      user.stage1_events = std::move(events);
      user.stage1_tasks = it->second;
    } else {
      if (events.size() < 2) {
        throw InputError(Location{users_path, 0, "user " + log.user_id}, "a two-stage episode needs at least 2 events");
      }
      // At least one event on each side of the cut.
      size_t cut = size_t(stage1_fraction * double(events.size()) + 0.5);
      cut = std::clamp<size_t>(cut, 1, events.size() - 1);
      user.stage1_events.assign(events.begin(), events.begin() + long(cut));
      user.stage2_events.assign(events.begin() + long(cut), events.end());
      for (const auto& task : it->second)
        (is_stage1_task(task) ? user.stage1_tasks : user.stage2_tasks).push_back(task);
      if (user.stage2_tasks.empty()) {
        throw InputError(Location{tasks_path, 0, "user " + log.user_id},
                         "no task rewards stage 2 (all have \"stage\": 1)");
      }
      if (user.stage1_tasks.empty()) user.stage1_tasks = user.stage2_tasks;
    }
    users.push_back(std::move(user));
  }
  if (skipped) *skipped = without_tasks;
  return users;
}

std::vector<data::BenchmarkTask> pick_tasks(const std::vector<data::BenchmarkTask>& tasks, int64_t limit,
                                            uint64_t seed) {
  if (limit <= 0 || int64_t(tasks.size()) <= limit) return tasks;
  std::vector<size_t> index(tasks.size());
  std::iota(index.begin(), index.end(), 0);
  seeded_shuffle(index, seed);
  index.resize(size_t(limit));
  std::sort(index.begin(), index.end());
  std::vector<data::BenchmarkTask> out;
  for (size_t i : index) out.push_back(tasks[i]);
  return out;
}

std::vector<data::BenchmarkTask> reward_tasks(const std::vector<data::BenchmarkTask>& tasks, bool next_only,
                                              int64_t limit, uint64_t seed) {
  if (!next_only) return pick_tasks(tasks, limit, seed);
  if (tasks.empty()) return {};
  return {tasks.front()};
}

}  // namespace upm
