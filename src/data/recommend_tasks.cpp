#include "upm/data/recommend_tasks.h"

#include <algorithm>
#include <cmath>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/random.h"
#include "upm/data/select_users.h"
#include "upm/data/split.h"

namespace upm::data {

namespace {

template <class V>
const V* find_sorted(const std::vector<std::pair<std::string, V>>& sorted, const std::string& key) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), key,
                             [](const auto& entry, const std::string& k) { return entry.first < k; });
  return it != sorted.end() && it->first == key ? &it->second : nullptr;
}

// Accuracy of "the more popular option is the answer" (ties one half).
nlohmann::json popularity_baseline(const std::vector<BenchmarkTask>& tasks, const PopularityBins& popularity) {
  double right = 0;
  for (const auto& t : tasks) {
    const int64_t a = popularity.count(t.options[0]), b = popularity.count(t.options[1]);
    right += a == b ? 0.5 : ((a > b ? 0 : 1) == t.label ? 1.0 : 0.0);
  }
  return {{"tasks", tasks.size()}, {"accuracy", tasks.empty() ? 0.0 : right / double(tasks.size())}};
}

}  // namespace

PopularityBins::PopularityBins(const std::vector<const std::vector<UserLog>*>& parts,
                               const std::vector<std::string>& train_users, int64_t bins) {
  if (bins < 1) throw Error("popularity bins must be at least 1");
  std::set<std::string> train(train_users.begin(), train_users.end());
  std::map<std::string, int64_t> counts;
  for (const auto* logs : parts) {
    for (const auto& log : *logs) {
      if (!train.count(log.user_id)) continue;
      for (const auto& e : log.events) {
        if (e.kind == EventKind::rating && !e.item.empty()) ++counts[e.item];
      }
    }
  }
  counts_.assign(counts.begin(), counts.end());
  // Items by popularity (then name); a bin closes once it holds its share of
  // the rating mass, never between two items of equal popularity.
  std::vector<std::pair<int64_t, std::string>> order;
  int64_t total = 0;
  for (const auto& [item, n] : counts_) {
    order.emplace_back(n, item);
    total += n;
  }
  std::sort(order.begin(), order.end());
  pool_.assign(static_cast<std::size_t>(bins), {});
  low_.assign(static_cast<std::size_t>(bins), 0);
  high_.assign(static_cast<std::size_t>(bins), 0);
  int64_t before = 0;
  std::size_t i = 0;
  while (i < order.size()) {
    const int64_t n = order[i].first;
    // The bin of every item of popularity n: where the mass below n falls.
    const auto b = static_cast<std::size_t>(std::min<int64_t>(bins - 1, total > 0 ? (before * bins) / total : 0));
    for (; i < order.size() && order[i].first == n; ++i) {
      const std::string& item = order[i].second;
      bin_of_.emplace_back(item, static_cast<int64_t>(b));
      for (int64_t k = 0; k < n; ++k) pool_[b].push_back(item);
      before += n;
      if (low_[b] == 0) low_[b] = n;
      high_[b] = n;
    }
  }
  std::sort(bin_of_.begin(), bin_of_.end());
}

int64_t PopularityBins::count(const std::string& item) const {
  const int64_t* n = find_sorted(counts_, item);
  return n ? *n : 0;
}

int64_t PopularityBins::bin(const std::string& item) const {
  const int64_t* b = find_sorted(bin_of_, item);
  return b ? *b : 0;
}

const std::string& PopularityBins::draw(int64_t bin, uint64_t random) const {
  static const std::string none;
  const auto& pool = pool_.at(static_cast<std::size_t>(bin));
  return pool.empty() ? none : pool[random % pool.size()];
}

nlohmann::json PopularityBins::describe() const {
  nlohmann::json out = nlohmann::json::array();
  std::vector<int64_t> items(pool_.size(), 0);
  for (const auto& [item, b] : bin_of_) ++items[static_cast<std::size_t>(b)];
  for (std::size_t b = 0; b < pool_.size(); ++b) {
    out.push_back({{"ratings", pool_[b].size()}, {"items", items[b]}, {"popularity", {low_[b], high_[b]}}});
  }
  return out;
}

RecommendResult recommend_tasks(const RecommendPart& part, const std::string& part_name,
                                const PopularityBins& popularity,
                                const std::map<std::string, std::set<std::string>>& all_items,
                                const RecommendConfig& config) {
  const auto cap = static_cast<std::size_t>(config.max_tasks_per_user);
  RecommendResult result;
  // Preference pairs: split's rating tasks, at most `cap` per user in file
  // order (split writes a user's clearest pairs first).
  std::map<std::string, std::size_t> pairs_of;
  std::vector<BenchmarkTask> pairs;
  for (const auto& t : part.pair_tasks) {
    if (t.extra.value("kind", "") != "rating") continue;
    if (cap > 0 && pairs_of[t.user_id] >= cap) continue;
    ++pairs_of[t.user_id];
    pairs.push_back(t);
  }

  Rng rng(static_cast<uint64_t>(config.seed) ^ stable_hash(part_name));
  std::vector<BenchmarkTask> recs;
  int64_t no_negative = 0;
  for (const auto& log : part.held_out) {
    static const std::set<std::string> empty;
    auto seen_it = all_items.find(log.user_id);
    const std::set<std::string>& seen = seen_it == all_items.end() ? empty : seen_it->second;
    std::size_t made = 0;
    for (const auto& e : chronological(log.events)) {
      if (cap > 0 && made >= cap) break;
      if (e.kind != EventKind::rating || e.item.empty()) continue;
      const int64_t bin = popularity.bin(e.item);
      std::string negative;
      for (int attempt = 0; attempt < 256 && negative.empty(); ++attempt) {
        const std::string& item = popularity.draw(bin, rng.next());
        if (!item.empty() && item != e.item && !seen.count(item)) negative = item;
      }
      if (negative.empty()) {
        ++no_negative;
        continue;
      }
      BenchmarkTask task;
      task.user_id = log.user_id;
      task.task_id = log.user_id + "-" + part_name + "-rec-" + std::to_string(++made);
      task.context = "Which item did this user go on to rate?";
      task.options = {e.item, negative};
      task.label = 0;
      task.extra = {{"source", e.source},
                    {"kind", "recommend"},
                    {"event_ids", {e.id}},
                    {"popularity", {popularity.count(e.item), popularity.count(negative)}},
                    {"popularity_bin", bin}};
      recs.push_back(std::move(task));
    }
  }
  Rng balance(static_cast<uint64_t>(config.seed) ^ 0x9e3779b97f4a7c15ull ^ stable_hash(part_name));
  balance_labels(recs, balance);

  std::size_t rec_label1 = 0;
  for (const auto& t : recs) rec_label1 += t.label == 1;
  result.summary = {
      {"pair_tasks", pairs.size()},
      {"recommend_tasks", recs.size()},
      {"recommend_label_1", rec_label1},
      {"recommend_without_negative", no_negative},
      {"popularity_baseline",
       {{"recommend", popularity_baseline(recs, popularity)}, {"rating", popularity_baseline(pairs, popularity)}}}};
  result.tasks = std::move(pairs);
  for (auto& t : recs) result.tasks.push_back(std::move(t));
  return result;
}

nlohmann::json write_recommend_tasks(const std::string& split_dir, const std::string& output_dir,
                                     const RecommendConfig& config) {
  ReadOptions strict;
  strict.strict = true;
  const auto history = read_user_logs(split_dir + "/history.jsonl", strict);
  const auto val_events = read_user_logs(split_dir + "/val_events.jsonl", strict);
  const auto test_events = read_user_logs(split_dir + "/test_events.jsonl", strict);
  const auto train_set = read_user_list(split_dir + "/users_train.txt");
  const std::vector<std::string> train(train_set.begin(), train_set.end());
  if (train.empty()) throw InputError(Location{split_dir + "/users_train.txt", 0, ""}, "no training user is listed");
  PopularityBins popularity({&history, &val_events, &test_events}, train, config.popularity_bins);

  std::map<std::string, std::set<std::string>> all_items;
  for (const auto* logs : {&history, &val_events, &test_events}) {
    for (const auto& log : *logs) {
      auto& items = all_items[log.user_id];
      for (const auto& e : log.events) {
        for (const auto* item : {&e.item, &e.chosen, &e.rejected}) {
          if (!item->empty()) items.insert(*item);
        }
      }
    }
  }

  make_directories(output_dir);
  nlohmann::json summary = {{"config",
                             {{"popularity_bins", config.popularity_bins},
                              {"max_tasks_per_user", config.max_tasks_per_user},
                              {"seed", config.seed}}},
                            {"split", split_dir},
                            {"train_users", train.size()},
                            {"bins", popularity.describe()}};
  for (const auto& [name, events] : {std::pair{"val", &val_events}, std::pair{"test", &test_events}}) {
    RecommendPart part;
    part.held_out = *events;
    part.pair_tasks = read_benchmark(split_dir + "/" + name + ".jsonl", strict);
    RecommendResult r = recommend_tasks(part, name, popularity, all_items, config);
    write_benchmark(output_dir + "/" + name + ".jsonl", r.tasks);
    summary[name] = r.summary;
  }
  write_file_atomic(output_dir + "/recommend.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace upm::data
