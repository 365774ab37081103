#include "upm/data/split.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/random.h"
#include "upm/data/stats.h"

namespace upm::data {

namespace {

struct PartSizes {
  std::size_t history, val, test;
};

// At least one event stays in history; a part with a fraction > 0 gets at
// least one event when there are enough events for it.
PartSizes part_sizes(std::size_t n, const SplitConfig& c) {
  auto share = [n](double fraction) {
    if (fraction <= 0) return std::size_t{0};
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n))));
  };
  std::size_t test = n >= 2 ? share(c.test_fraction) : 0;
  std::size_t val = n >= 3 ? share(c.val_fraction) : 0;
  while (n > 0 && test + val >= n) (val > 0 ? val : test) -= 1;
  return {n - val - test, val, test};
}

struct Click {
  std::string item, category;
  std::size_t user;
};

// Negatives for click tasks: items other users clicked.
class ClickPool {
 public:
  explicit ClickPool(const std::vector<UserLog>& logs) {
    for (std::size_t u = 0; u < logs.size(); ++u) {
      for (const auto& e : logs[u].events) {
        if (e.kind == EventKind::click) clicks_.push_back({e.item, e.category, u});
      }
    }
  }

  // An item another user clicked that `seen` lacks, from another category
  // when possible; "" when none is found.
  std::string negative(Rng& rng, std::size_t user, const Event& positive, const std::set<std::string>& seen) const {
    if (clicks_.empty()) return "";
    for (bool need_other_category : {true, false}) {
      for (int attempt = 0; attempt < 64; ++attempt) {
        const Click& c = clicks_[rng.below(clicks_.size())];
        if (c.user == user || seen.count(c.item)) continue;
        if (need_other_category && !positive.category.empty() && c.category == positive.category) continue;
        return c.item;
      }
    }
    return "";
  }

 private:
  std::vector<Click> clicks_;
};

BenchmarkTask make_task(const std::string& user_id, const std::string& context, const std::string& correct,
                        const std::string& other, const Event& source, std::vector<std::string> event_ids) {
  BenchmarkTask task;
  task.user_id = user_id;
  task.context = context;
  task.options = {correct, other};
  task.label = 0;
  task.extra = {{"source", source.source}, {"kind", kind_name(source.kind)}, {"event_ids", event_ids}};
  return task;
}

// Liked-vs-disliked pairs among held-out ratings (see split.h).
void rating_tasks(const std::string& user_id, std::vector<const Event*> ratings, double min_gap,
                  std::vector<BenchmarkTask>& out) {
  std::stable_sort(ratings.begin(), ratings.end(),
                   [](const Event* a, const Event* b) { return a->normalized_value() > b->normalized_value(); });
  for (std::size_t hi = 0, lo = ratings.size(); hi + 1 < lo; ++hi) {
    --lo;
    const Event& liked = *ratings[hi];
    const Event& disliked = *ratings[lo];
    if (liked.normalized_value() - disliked.normalized_value() < min_gap - 1e-12) break;
    if (liked.item == disliked.item) continue;
    out.push_back(make_task(user_id, "Which item did this user rate higher?", liked.item, disliked.item, liked,
                            {liked.id, disliked.id}));
  }
}

std::vector<BenchmarkTask> tasks_for_part(const UserLog& user, std::size_t user_index, const std::vector<Event>& part,
                                          const ClickPool& pool, const std::set<std::string>& seen_items,
                                          const SplitConfig& config, Rng& rng) {
  std::vector<BenchmarkTask> tasks;
  std::vector<const Event*> ratings;
  for (const auto& e : part) {
    if (e.kind == EventKind::pairwise) {
      tasks.push_back(make_task(user.user_id, e.context.empty() ? "Which response would this user prefer?" : e.context,
                                e.chosen, e.rejected, e, {e.id}));
    } else if (e.kind == EventKind::click) {
      std::string negative = pool.negative(rng, user_index, e, seen_items);
      if (negative.empty()) continue;
      tasks.push_back(make_task(user.user_id, e.context.empty() ? "Which item did this user pick?" : e.context, e.item,
                                negative, e, {e.id}));
    } else if (e.kind == EventKind::rating) {
      ratings.push_back(&e);
    }
  }
  rating_tasks(user.user_id, ratings, config.min_rating_gap, tasks);
  return tasks;
}

UserLog with_events(const UserLog& user, std::vector<Event> events) {
  UserLog out;
  out.user_id = user.user_id;
  out.extra = user.extra;
  out.events = std::move(events);
  return out;
}

}  // namespace

void balance_labels(std::vector<BenchmarkTask>& tasks, Rng& rng) {
  std::vector<std::size_t> order(tasks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.shuffle(order);
  for (std::size_t k = 1; k < order.size(); k += 2) {
    BenchmarkTask& t = tasks[order[k]];
    std::swap(t.options[0], t.options[1]);
    t.label = 1;
  }
}

SplitResult split_logs(const std::vector<UserLog>& logs, const SplitConfig& config) {
  const uint64_t seed = static_cast<uint64_t>(config.seed);
  Rng negatives(seed), balance(seed ^ 0x9e3779b97f4a7c15ull), users(seed ^ 0xc2b2ae3d27d4eb4full);
  ClickPool pool(logs);
  SplitResult result;
  for (std::size_t u = 0; u < logs.size(); ++u) {
    const UserLog& user = logs[u];
    std::vector<Event> events = chronological(user.events);
    PartSizes sizes = part_sizes(events.size(), config);
    auto begin = events.begin();
    std::vector<Event> history(begin, begin + sizes.history);
    std::vector<Event> val(begin + sizes.history, begin + sizes.history + sizes.val);
    std::vector<Event> test(begin + sizes.history + sizes.val, events.end());
    std::set<std::string> seen;
    for (const auto& e : events) {
      if (!e.item.empty()) seen.insert(e.item);
    }
    auto number = [&](std::vector<BenchmarkTask> tasks, const char* part, std::vector<BenchmarkTask>& out) {
      for (std::size_t k = 0; k < tasks.size(); ++k) {
        tasks[k].task_id = user.user_id + "-" + part + "-" + std::to_string(k + 1);
        out.push_back(std::move(tasks[k]));
      }
    };
    number(tasks_for_part(user, u, val, pool, seen, config, negatives), "val", result.val);
    number(tasks_for_part(user, u, test, pool, seen, config, negatives), "test", result.test);
    result.history.push_back(with_events(user, std::move(history)));
    result.val_events.push_back(with_events(user, std::move(val)));
    result.test_events.push_back(with_events(user, std::move(test)));
  }
  balance_labels(result.val, balance);
  balance_labels(result.test, balance);

  std::vector<std::string> ids;
  for (const auto& user : logs) ids.push_back(user.user_id);
  users.shuffle(ids);
  std::size_t n_eval =
      static_cast<std::size_t>(std::llround(config.eval_user_fraction * static_cast<double>(ids.size())));
  if (config.eval_user_fraction > 0 && ids.size() >= 2) n_eval = std::clamp<std::size_t>(n_eval, 1, ids.size() - 1);
  result.eval_users.assign(ids.begin(), ids.begin() + n_eval);
  result.train_users.assign(ids.begin() + n_eval, ids.end());
  std::sort(result.eval_users.begin(), result.eval_users.end());
  std::sort(result.train_users.begin(), result.train_users.end());
  return result;
}

nlohmann::json split_summary(const SplitResult& split) {
  auto count_events = [](const std::vector<UserLog>& logs) {
    std::size_t n = 0;
    for (const auto& l : logs) n += l.events.size();
    return n;
  };
  auto task_counts = [](const std::vector<BenchmarkTask>& tasks) {
    nlohmann::json by_kind = nlohmann::json::object();
    std::size_t label1 = 0;
    for (const auto& t : tasks) {
      by_kind[t.extra.value("kind", "?")] = by_kind.value(t.extra.value("kind", "?"), 0) + 1;
      label1 += t.label == 1;
    }
    return nlohmann::json{{"tasks", tasks.size()}, {"by_kind", by_kind}, {"label_1", label1}};
  };
  return {{"users", split.history.size()},
          {"train_users", split.train_users.size()},
          {"eval_users", split.eval_users.size()},
          {"history_events", count_events(split.history)},
          {"val_events", count_events(split.val_events)},
          {"test_events", count_events(split.test_events)},
          {"val", task_counts(split.val)},
          {"test", task_counts(split.test)}};
}

void write_split(const SplitResult& split, const SplitConfig& config, const std::string& dir) {
  make_directories(dir);
  write_user_logs(dir + "/history.jsonl", split.history);
  write_user_logs(dir + "/val_events.jsonl", split.val_events);
  write_user_logs(dir + "/test_events.jsonl", split.test_events);
  write_benchmark(dir + "/val.jsonl", split.val);
  write_benchmark(dir + "/test.jsonl", split.test);
  auto lines = [](const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += id + "\n";
    return out;
  };
  write_file_atomic(dir + "/users_train.txt", lines(split.train_users));
  write_file_atomic(dir + "/users_eval.txt", lines(split.eval_users));
  nlohmann::json summary = split_summary(split);
  summary["config"] = config_to_json(config);
  write_file_atomic(dir + "/split.json", summary.dump(2) + "\n");
}

nlohmann::json run_split_job(const std::string& input, const std::string& dir, const SplitConfig& config, bool strict) {
  make_directories(dir);
  ReadOptions read;
  read.strict = strict;
  read.rejects_path = dir + "/rejects.jsonl";
  ReadReport report;
  auto logs = read_user_logs(input, read, &report);
  for (const auto& problem : report.problems) spdlog::warn("rejected: {}", problem);
  require_accepted_records(report, input);
  auto split = split_logs(logs, config);
  write_split(split, config, dir);
  nlohmann::json summary = split_summary(split);
  summary["input"] = read_report_json(report);
  return summary;
}

}  // namespace upm::data
