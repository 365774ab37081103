#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "data_test_util.h"
#include "upm/data/recommend_tasks.h"
#include "upm/core/random.h"
#include "upm/data/split.h"

namespace {

using namespace upm::data;
using upm::Rng;
using upm::test::TempDir;

Event rating(const std::string& id, const std::string& item, double value, int64_t minute) {
  Event e;
  e.id = id, e.kind = EventKind::rating, e.item = item, e.value = value, e.source = "movies";
  char ts[32];
  std::snprintf(ts, sizeof ts, "2024-01-%02lldT%02lld:%02lld:00Z", static_cast<long long>(1 + minute / 1440),
                static_cast<long long>(minute / 60 % 24), static_cast<long long>(minute % 60));
  e.ts = ts;
  return e;
}

UserLog user(const std::string& id, std::vector<Event> events) {
  UserLog log;
  log.user_id = id;
  log.events = std::move(events);
  return log;
}

// A world where what a user rates follows item popularity (Zipf over 300
// items), as in real rating logs: an unmatched negative is then usually the
// less popular option.
std::vector<UserLog> zipf_world(int users, int per_user, uint64_t seed) {
  Rng rng(seed);
  const int items = 300;
  std::vector<double> cumulative;
  double total = 0;
  for (int i = 0; i < items; ++i) cumulative.push_back(total += 1.0 / (i + 1));
  std::vector<UserLog> logs;
  for (int u = 0; u < users; ++u) {
    std::set<int> rated;
    std::vector<Event> events;
    while (static_cast<int>(events.size()) < per_user) {
      const double x = rng.uniform() * total;
      const int item = static_cast<int>(std::lower_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin());
      if (!rated.insert(item).second) continue;
      const int n = static_cast<int>(events.size());
      events.push_back(rating("e" + std::to_string(n), "movie " + std::to_string(item),
                              static_cast<double>(1 + rng.below(5)), n * 7));
    }
    logs.push_back(user("u" + std::to_string(u), std::move(events)));
  }
  return logs;
}

// A Zipf world split, with its popularity bins and every item each user touched.
struct SplitWorld {
  std::vector<UserLog> logs;
  SplitResult split;
  PopularityBins popularity;
  std::map<std::string, std::set<std::string>> all_items;

  SplitWorld(std::vector<UserLog> world, const SplitConfig& config, int64_t bins)
      : logs(std::move(world)),
        split(split_logs(logs, config)),
        popularity({&split.history, &split.val_events, &split.test_events}, split.train_users, bins) {
    for (const auto& log : logs)
      for (const auto& e : log.events) all_items[log.user_id].insert(e.item);
  }
};

TEST(PopularityBins, EqualRatingMassFromTrainingUsersOnly) {
  // Training users rate A 4 times, B 2, C and D once; a held-out user's many
  // ratings of E never count.
  std::vector<UserLog> logs{
      user("t1", {rating("1", "A", 5, 0), rating("2", "B", 4, 1), rating("3", "C", 3, 2)}),
      user("t2", {rating("1", "A", 5, 0), rating("2", "B", 4, 1), rating("3", "D", 3, 2)}),
      user("t3", {rating("1", "A", 5, 0)}),
      user("t4", {rating("1", "A", 5, 0)}),
      user("held", {rating("1", "E", 5, 0), rating("2", "E2", 5, 1), rating("3", "E3", 5, 2)}),
  };
  PopularityBins bins({&logs}, {"t1", "t2", "t3", "t4"}, 2);
  EXPECT_EQ(bins.count("A"), 4);
  EXPECT_EQ(bins.count("B"), 2);
  EXPECT_EQ(bins.count("E"), 0);
  // Mass 8: C, D, B (4 ratings) fill the lower half, A the upper.
  EXPECT_EQ(bins.bin("C"), 0);
  EXPECT_EQ(bins.bin("D"), 0);
  EXPECT_EQ(bins.bin("B"), 0);
  EXPECT_EQ(bins.bin("A"), 1);
  EXPECT_EQ(bins.bin("E"), 0);  // unrated by training users: the lowest bin
  for (uint64_t r = 0; r < 20; ++r) EXPECT_EQ(bins.draw(1, r), "A");
  auto described = bins.describe();
  EXPECT_EQ(described[0]["ratings"], 4);
  EXPECT_EQ(described[0]["items"], 3);
  EXPECT_EQ(described[1]["popularity"], (nlohmann::json{4, 4}));
}

TEST(RecommendTasks, MatchedNegativesLeavePopularityNearChanceAndAreNeverRated) {
  SplitConfig split_config;
  split_config.seed = 1;
  SplitWorld w(zipf_world(120, 40, 3), split_config, 10);
  const SplitResult& split = w.split;
  const PopularityBins& popularity = w.popularity;
  auto& all_items = w.all_items;

  RecommendConfig config;
  config.seed = 5;
  RecommendPart part{split.test_events, split.test};
  RecommendResult result = recommend_tasks(part, "test", popularity, all_items, config);

  std::size_t recs = 0, pairs = 0, label1 = 0;
  std::set<std::string> ids;
  Rng uniform(9);
  double matched_right = 0, unmatched_right = 0;
  for (const auto& t : result.tasks) {
    EXPECT_TRUE(ids.insert(t.task_id).second) << t.task_id;
    if (t.extra["kind"] == "rating") {
      ++pairs;
      continue;
    }
    ASSERT_EQ(t.extra["kind"], "recommend");
    ++recs;
    label1 += t.label == 1;
    const std::string& positive = t.options[t.label];
    const std::string& negative = t.options[1 - t.label];
    EXPECT_FALSE(all_items[t.user_id].count(negative)) << t.task_id << ": the user rated " << negative;
    EXPECT_TRUE(all_items[t.user_id].count(positive));
    EXPECT_EQ(popularity.bin(positive), popularity.bin(negative)) << t.task_id;
    const int64_t p = popularity.count(positive), n = popularity.count(negative);
    matched_right += p == n ? 0.5 : (p > n ? 1.0 : 0.0);
    // The same rule against a uniformly drawn never-rated item (no matching).
    std::string other;
    while (other.empty() || all_items[t.user_id].count(other)) other = "movie " + std::to_string(uniform.below(300));
    const int64_t o = popularity.count(other);
    unmatched_right += p == o ? 0.5 : (p > o ? 1.0 : 0.0);
  }
  EXPECT_EQ(pairs, split.test.size());  // every preference pair kept (no cap)
  ASSERT_GT(recs, 500u);
  EXPECT_LE(std::abs(static_cast<double>(label1) - static_cast<double>(recs) / 2), 1.0);
  const double matched = matched_right / static_cast<double>(recs);
  const double unmatched = unmatched_right / static_cast<double>(recs);
  std::printf("popularity rule: matched negatives %.3f, uniform negatives %.3f (%zu tasks)\n", matched, unmatched,
              recs);
  // What the matching guards against (measured: 0.729 uniform, 0.518 matched).
  EXPECT_GT(unmatched, 0.68);
  EXPECT_NEAR(matched, 0.5, 0.06);
  EXPECT_GT(unmatched - matched, 0.15);
  EXPECT_NEAR(result.summary["popularity_baseline"]["recommend"]["accuracy"].get<double>(), matched, 1e-9);
}

TEST(RecommendTasks, CapKeepsTheEarliestRatingsAndTheFirstPairsPerUser) {
  SplitConfig split_config;
  split_config.test_fraction = 0.5;
  SplitWorld w(zipf_world(30, 40, 4), split_config, 4);
  const SplitResult& split = w.split;
  RecommendConfig config;
  config.max_tasks_per_user = 2;
  RecommendResult result = recommend_tasks({split.test_events, split.test}, "test", w.popularity, w.all_items, config);
  std::map<std::string, std::map<std::string, int>> per_user;
  for (const auto& t : result.tasks) ++per_user[t.user_id][t.extra["kind"].get<std::string>()];
  ASSERT_EQ(per_user.size(), 30u);
  for (const auto& [id, kinds] : per_user) {
    EXPECT_EQ(kinds.at("recommend"), 2) << id;
    EXPECT_LE(kinds.count("rating") ? kinds.at("rating") : 0, 2) << id;
  }
  // The first recommendation task of a user is their first test-period rating.
  for (const auto& t : result.tasks) {
    if (t.task_id != "u0-test-rec-1") continue;
    EXPECT_EQ(t.options[t.label], split.test_events[0].events.front().item);
  }
}

TEST(RecommendTasks, ToolWritesBothFormsAndTheSummary) {
  auto logs = zipf_world(40, 30, 6);
  SplitConfig split_config;
  SplitResult split = split_logs(logs, split_config);
  TempDir dir;
  write_split(split, split_config, dir.file("split"));
  RecommendConfig config;
  config.max_tasks_per_user = 3;
  auto summary = write_recommend_tasks(dir.file("split"), dir.file("tasks"), config);
  ReadOptions strict;
  strict.strict = true;
  for (const std::string part : {"val", "test"}) {
    auto tasks = read_benchmark(dir.file("tasks/" + part + ".jsonl"), strict);
    EXPECT_EQ(tasks.size(), summary[part]["pair_tasks"].get<std::size_t>() +
                                summary[part]["recommend_tasks"].get<std::size_t>());
    EXPECT_GT(summary[part]["recommend_tasks"].get<int>(), 0);
  }
  EXPECT_EQ(summary["bins"].size(), 10u);
  EXPECT_EQ(nlohmann::json::parse(upm::test::slurp(dir.file("tasks/recommend.json"))), summary);
  EXPECT_THROW(write_recommend_tasks(dir.file("nowhere"), dir.file("out2"), config), std::exception);
}

}  // namespace
