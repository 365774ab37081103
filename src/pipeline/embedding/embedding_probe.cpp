#include "upm/pipeline/embedding/embedding_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <torch/torch.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/core/random.h"

namespace upm {

double roc_auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  if (scores.size() != labels.size()) throw Error("roc_auc: one label per score expected");
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0.0;
  int64_t positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = (double(i + 1) + double(j)) / 2.0;  // ranks i+1 .. j share their mean
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]]) {
        positive_rank_sum += average_rank;
        ++positives;
      }
    }
    i = j;
  }
  const int64_t negatives = int64_t(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return (positive_rank_sum - double(positives) * double(positives + 1) / 2.0) /
         (double(positives) * double(negatives));
}

std::vector<std::string> held_out_users(std::vector<std::string> users, double fraction, uint64_t seed) {
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  seeded_shuffle(users, seed);
  const int64_t n = int64_t(users.size());
  int64_t k = int64_t(std::llround(fraction * double(n)));
  k = std::max<int64_t>(1, n >= 2 ? std::min(k, n - 1) : k);
  users.resize(size_t(std::min(k, n)));
  return users;
}

ProbeScore fit_and_score_probe(const torch::Tensor& x_all, const std::vector<int>& labels,
                               const std::vector<bool>& is_test, const ProbeConfig& config) {
  std::vector<int64_t> train_rows, test_rows;
  for (size_t i = 0; i < is_test.size(); ++i) (is_test[i] ? test_rows : train_rows).push_back(int64_t(i));
  auto y_all = torch::tensor(std::vector<int64_t>(labels.begin(), labels.end())).to(torch::kDouble);
  auto x = x_all.to(torch::kDouble);
  auto x_train = x.index_select(0, torch::tensor(train_rows, torch::kLong));
  auto y_train = y_all.index_select(0, torch::tensor(train_rows, torch::kLong));
  const double positives = y_train.sum().item<double>();
  if (test_rows.empty()) throw InputError("probe: no held-out rows");
  if (positives == 0 || positives == double(train_rows.size())) {
    throw InputError("probe: the training users have only one class");
  }
  auto mean = x_train.mean(0);
  auto scale = x_train.std(0, false).clamp_min(1e-6);
  x_train = (x_train - mean) / scale;

  // A convex problem: full-batch L-BFGS reaches its optimum deterministically.
  auto w = torch::zeros({x.size(1)}, torch::kDouble).requires_grad_(true);
  auto b = torch::zeros({1}, torch::kDouble).requires_grad_(true);
  torch::optim::LBFGS optimizer({w, b}, torch::optim::LBFGSOptions(1.0)
                                            .max_iter(config.max_iterations)
                                            .tolerance_grad(1e-9)
                                            .tolerance_change(1e-12)
                                            .line_search_fn("strong_wolfe"));
  auto closure = [&] {
    optimizer.zero_grad();
    auto loss =
        torch::binary_cross_entropy_with_logits(torch::mv(x_train, w) + b, y_train) + 0.5 * config.l2 * w.pow(2).sum();
    loss.backward();
    return loss;
  };
  optimizer.step(closure);

  torch::NoGradGuard no_grad;
  auto x_test = (x.index_select(0, torch::tensor(test_rows, torch::kLong)) - mean) / scale;
  auto logits = (torch::mv(x_test, w) + b).contiguous();
  std::vector<double> scores(logits.data_ptr<double>(), logits.data_ptr<double>() + logits.numel());
  std::vector<int> test_labels;
  int64_t correct = 0;
  for (size_t i = 0; i < test_rows.size(); ++i) {
    test_labels.push_back(labels[size_t(test_rows[i])]);
    correct += int((scores[i] > 0) == (test_labels.back() != 0));
  }
  ProbeScore out;
  out.auc = roc_auc(scores, test_labels);
  out.accuracy = double(correct) / double(test_rows.size());
  out.train = int64_t(train_rows.size());
  out.test = int64_t(test_rows.size());
  return out;
}

std::vector<ProbeLabel> read_probe_labels(const std::string& path) {
  JsonlReader reader(path);
  std::vector<ProbeLabel> labels;
  std::map<std::pair<std::string, std::string>, size_t> first_line;
  while (auto record = reader.next_strict()) {
    ProbeLabel l;
    l.user_id = get_field<std::string>(*record, record->value, "user_id");
    l.task = get_field<std::string>(*record, record->value, "task");
    l.query_id = get_field_or<std::string>(*record, record->value, "query_id", l.task);
    l.label = get_field<int>(*record, record->value, "label");
    if (l.user_id.empty()) record->fail("user_id", "must not be empty");
    if (l.task.empty()) record->fail("task", "must not be empty");
    if (l.label != 0 && l.label != 1) record->fail("label", "must be 0 or 1, got " + std::to_string(l.label));
    auto [it, fresh] = first_line.emplace(std::make_pair(l.task, l.user_id), record->line);
    if (!fresh) {
      record->fail("user_id", "duplicate label of user \"" + l.user_id + "\" for task \"" + l.task +
                                  "\" (first at line " + std::to_string(it->second) + ")");
    }
    labels.push_back(std::move(l));
  }
  if (labels.empty()) throw InputError(Location{path, 0, ""}, "no labels in the file");
  return labels;
}

namespace {

nlohmann::json score_json(const ProbeScore& s) {
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"auc", number(s.auc)}, {"accuracy", s.accuracy}, {"train", s.train}, {"test", s.test}};
}

// Rows of `table` for (user, query_id) of each label, in label order.
torch::Tensor gather_rows(const EmbeddingTable& table,
                          const std::map<std::pair<std::string, std::string>, int64_t>& where,
                          const std::vector<const ProbeLabel*>& labels, const std::string& query_id,
                          const std::string& task) {
  std::vector<int64_t> rows;
  for (const ProbeLabel* l : labels) {
    auto it = where.find({l->user_id, query_id});
    if (it == where.end()) {
      throw InputError(Location{"", 0, "task " + task},
                       "no embedding of user \"" + l->user_id + "\" for query \"" + query_id + "\"");
    }
    rows.push_back(it->second);
  }
  return table.embeddings.index_select(0, torch::tensor(rows, torch::kLong));
}

}  // namespace

nlohmann::json run_probe(const EmbeddingTable& table, const std::vector<ProbeLabel>& labels,
                         const ProbeConfig& config) {
  std::map<std::pair<std::string, std::string>, int64_t> where;
  for (size_t r = 0; r < table.rows.size(); ++r) where[{table.rows[r].user_id, table.rows[r].query_id}] = int64_t(r);
  std::map<std::string, std::vector<const ProbeLabel*>> by_task;
  for (const auto& l : labels) by_task[l.task].push_back(&l);

  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& [task, rows] : by_task) {
    std::vector<std::string> users;
    std::vector<int> y;
    for (const ProbeLabel* l : rows) {
      users.push_back(l->user_id);
      y.push_back(l->label);
    }
    const auto held_out = held_out_users(users, config.test_fraction, config.seed);
    const std::set<std::string> test_set(held_out.begin(), held_out.end());
    std::vector<bool> is_test;
    for (const auto& u : users) is_test.push_back(test_set.count(u) > 0);

    const std::string query_id = rows.front()->query_id;
    for (const ProbeLabel* l : rows) {
      if (l->query_id != query_id) {
        throw InputError(Location{"", 0, "task " + task},
                         "labels name two query ids: \"" + query_id + "\" and \"" + l->query_id + "\"");
      }
    }
    nlohmann::json entry{{"task", task}, {"query_id", query_id}, {"users", users.size()}};
    auto fit = [&](const torch::Tensor& x) {
      try {
        return score_json(fit_and_score_probe(x, y, is_test, config));
      } catch (const InputError& e) {
        throw InputError(Location{"", 0, "task " + task}, e.what());
      }
    };
    entry["query"] = fit(gather_rows(table, where, rows, query_id, task));
    if (!config.baseline_query_id.empty()) {
      entry["baseline"] = fit(gather_rows(table, where, rows, config.baseline_query_id, task));
    }
    tasks.push_back(entry);
  }
  return {{"tasks", tasks}, {"config", config_to_json(config)}};
}

nlohmann::json run_probe_job(const ProbeJobConfig& config) {
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string&>{"embeddings", config.embeddings}, {"labels", config.labels}}) {
    if (value.empty()) throw InputError(Location{"", 0, key}, std::string("required: give --") + key);
  }
  std::vector<ProbeLabel> labels = read_probe_labels(config.labels);
  EmbeddingTable table = read_embedding_table(config.embeddings);
  nlohmann::json report = run_probe(table, labels, config);
  report["embeddings"] = config.embeddings;
  report["labels"] = config.labels;
  if (!config.output.empty()) write_file_atomic(config.output, report.dump(2) + "\n");
  return report;
}

}  // namespace upm
