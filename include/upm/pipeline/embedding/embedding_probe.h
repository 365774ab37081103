#pragma once
// Linear-probe evaluation of user embeddings (how Q-Anchor is evaluated):
// for each task, an L2-regularised logistic regression is fitted on the
// embeddings of training users and scored on held-out users (split by user,
// seeded), giving ROC AUC and accuracy; the same is done on the query-free
// baseline rows ("@history_mean", the mean-pooled history) for comparison.
//
// Labels (JSONL, one user and task per line):
//   {"user_id": "u1", "task": "likes_horror", "query_id": "horror", "label": 1}
// query_id names the embedding rows of that task (default: the task name);
// label is 0 or 1.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "upm/core/config.h"
#include "upm/pipeline/embedding/embedding_io.h"

namespace upm {

struct ProbeConfig {
  double l2 = 1e-2;                                     // weight of 0.5 * |w|^2 added to the mean log-loss
  int64_t max_iterations = 200;                         // L-BFGS iterations
  double test_fraction = 0.3;                           // share of users held out
  uint64_t seed = 0;                                    // user split
  std::string baseline_query_id = kHistoryMeanQueryId;  // "" = no baseline
};

inline void describe(ConfigIO& io, ProbeConfig& c) {
  io.field("l2", c.l2).at_least(0.0);
  io.field("max_iterations", c.max_iterations).greater_than(0);
  io.field("test_fraction", c.test_fraction).greater_than(0.0).at_most(0.9);
  io.field("seed", c.seed);
  io.field("baseline_query_id", c.baseline_query_id);
}

// ROC AUC: the probability that a random positive scores above a random
// negative, ties counting one half (Mann-Whitney U with average ranks).
// NaN when either class is absent.
double roc_auc(const std::vector<double>& scores, const std::vector<int>& labels);

struct ProbeScore {
  double auc = 0.0;
  double accuracy = 0.0;  // threshold 0.5 on the fitted probability
  int64_t train = 0;
  int64_t test = 0;
};

// Fits on rows with !is_test and scores rows with is_test. x: [n, d] float;
// features are standardised with the training rows' mean and deviation.
// InputError if the training rows lack a class or no row is held out.
ProbeScore fit_and_score_probe(const torch::Tensor& x, const std::vector<int>& labels, const std::vector<bool>& is_test,
                               const ProbeConfig& config);

// The held-out users: a seeded shuffle of the sorted distinct ids, the first
// round(fraction * n) of them (at least one, at most n - 1 when n >= 2).
std::vector<std::string> held_out_users(std::vector<std::string> users, double fraction, uint64_t seed);

struct ProbeLabel {
  std::string user_id;
  std::string task;
  std::string query_id;
  int label = 0;
};

std::vector<ProbeLabel> read_probe_labels(const std::string& path);

// Per task: {"task", "query_id", "users", "query": {auc, accuracy, train, test},
// "baseline": {...}}. A (user, query_id) missing from `table` is an InputError
// naming the labels line's task.
nlohmann::json run_probe(const EmbeddingTable& table, const std::vector<ProbeLabel>& labels, const ProbeConfig& config);

// `upm-embed probe`: the knobs plus the files (--embeddings, --labels, --output).
struct ProbeJobConfig : ProbeConfig {
  std::string embeddings;  // EMB prefix written by upm-embed (required)
  std::string labels;      // labels JSONL: user_id, task, query_id, label (required)
  std::string output;      // report JSON; "" = none
};

inline void describe(ConfigIO& io, ProbeJobConfig& c) {
  io.field("embeddings", c.embeddings);
  io.field("labels", c.labels);
  io.field("output", c.output);
  describe(io, static_cast<ProbeConfig&>(c));
}

// run_probe on the files, the report naming them ("embeddings", "labels");
// written to config.output (atomically) when set. InputError when
// config.embeddings or config.labels is empty.
nlohmann::json run_probe_job(const ProbeJobConfig& config);

}  // namespace upm
