#pragma once
// Held-out splits of a user log.
//
// Per user, events in chronological order (user_log.h `chronological`) are
// cut into history | validation | test (the last test_fraction of events is
// test, the val_fraction before it validation; at least one event stays in
// history). Tasks are built from the held-out events of each part:
//   pairwise  as it is: options {chosen, rejected}, context from the event
//   rating    liked-vs-disliked pairs: the held-out ratings sorted by value,
//             highest paired with lowest while they differ by at least
//             min_rating_gap of the scale; "Which item did this user rate higher?"
//   click     the clicked item vs an item another user clicked and this user
//             never did, from a different category when events carry one
//             (a maintainer's package vs one of another section)
//   text      no task
// Options are then put in a seeded random order with the label balanced
// (half the tasks of each part have label 0, half label 1).
// A user-level split puts eval_user_fraction of the users aside (never seen
// in training): users_train.txt / users_eval.txt.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/data/benchmark.h"
#include "upm/data/user_log.h"

namespace upm {
class Rng;
}  // namespace upm

namespace upm::data {

struct SplitConfig {
  double val_fraction = 0.1;
  double test_fraction = 0.2;
  double eval_user_fraction = 0.2;
  double min_rating_gap = 0.25;  // of the scale's range (1 point on 1-5)
  int64_t seed = 0;
};

inline void describe(ConfigIO& io, SplitConfig& c) {
  io.field("val_fraction", c.val_fraction).at_least(0.0).at_most(0.9);
  io.field("test_fraction", c.test_fraction).at_least(0.0).at_most(0.9);
  io.field("eval_user_fraction", c.eval_user_fraction).at_least(0.0).at_most(1.0);
  io.field("min_rating_gap", c.min_rating_gap).at_least(0.0).at_most(1.0);
  io.field("seed", c.seed);
}

struct SplitResult {
  std::vector<UserLog> history;      // per user, the events before validation
  std::vector<UserLog> val_events;   // per user, the validation events
  std::vector<UserLog> test_events;  // per user, the test events
  std::vector<BenchmarkTask> val;
  std::vector<BenchmarkTask> test;
  std::vector<std::string> train_users;
  std::vector<std::string> eval_users;
};

SplitResult split_logs(const std::vector<UserLog>& logs, const SplitConfig& config);

// Writes DIR/{history,val_events,test_events}.jsonl (user log),
// DIR/{val,test}.jsonl (benchmark), DIR/users_{train,eval}.txt (one id a
// line) and DIR/split.json (config and counts).
void write_split(const SplitResult& split, const SplitConfig& config, const std::string& dir);

// Puts the options of two-option tasks in a seeded order: exactly half the
// tasks (rounded down) get label 1 (their options swapped).
void balance_labels(std::vector<BenchmarkTask>& tasks, Rng& rng);

// Counts of a split for split.json and reports.
nlohmann::json split_summary(const SplitResult& split);

// `upm-data split`: reads the user log `input` (a bad record is logged and
// kept in DIR/rejects.jsonl, or with `strict` an InputError), splits it and
// writes DIR (write_split). Returns split_summary plus "input":
// read_report_json. InputError when the file held records and none was accepted.
nlohmann::json run_split_job(const std::string& input, const std::string& dir, const SplitConfig& config, bool strict);

}  // namespace upm::data
