// Linear probe and k-means over embeddings.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "embed_test_util.h"
#include "upm/pipeline/embedding/embedding_probe.h"
#include "upm/embed/kmeans.h"

namespace upm {
namespace {

TEST(RocAuc, HandComputedValues) {
  // 3 of the 4 positive-negative pairs are ordered right.
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  // A tie between a positive and a negative counts one half: (0.5 + 1 + 1 + 1) / 4.
  EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.5, 0.2, 0.9}, {1, 0, 0, 1}), 0.875);
  EXPECT_DOUBLE_EQ(roc_auc({3, 2, 1}, {0, 0, 1}), 0.0);
  EXPECT_TRUE(std::isnan(roc_auc({1, 2}, {1, 1})));
}

TEST(HeldOutUsers, SeededDisjointAndSized) {
  std::vector<std::string> users;
  for (int i = 0; i < 20; ++i) users.push_back("u" + std::to_string(i));
  auto a = held_out_users(users, 0.3, 1);
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(held_out_users(users, 0.3, 1), a);
  EXPECT_NE(held_out_users(users, 0.3, 2), a);
  // Duplicates (one user, several rows) count once.
  users.insert(users.end(), users.begin(), users.end());
  EXPECT_EQ(held_out_users(users, 0.3, 1).size(), 6u);
}

// Two features: the first carries the label, the second is noise.
torch::Tensor labelled_points(const std::vector<int>& labels, double signal, uint64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({int64_t(labels.size()), 4}, torch::kDouble);
  for (size_t i = 0; i < labels.size(); ++i) x[int64_t(i)][0] += signal * (labels[i] ? 1 : -1);
  return x;
}

TEST(Probe, SeparableFeaturesScorePerfectlyAndNoiseScoresNearChance) {
  std::vector<int> labels;
  std::vector<bool> is_test;
  for (int i = 0; i < 200; ++i) {
    labels.push_back(i % 2);
    is_test.push_back(i % 3 == 0);
  }
  ProbeConfig config;
  ProbeScore good = fit_and_score_probe(labelled_points(labels, 4.0, 1), labels, is_test, config);
  EXPECT_EQ(good.test, 67);
  EXPECT_EQ(good.train, 133);
  EXPECT_GT(good.auc, 0.99);
  EXPECT_GT(good.accuracy, 0.95);
  ProbeScore noise = fit_and_score_probe(labelled_points(labels, 0.0, 2), labels, is_test, config);
  EXPECT_LT(std::abs(noise.auc - 0.5), 0.15);

  std::vector<int> one_class(200, 1);
  UPM_EXPECT_THROW_WITH(fit_and_score_probe(labelled_points(labels, 1.0, 3), one_class, is_test, config), InputError,
                        "only one class");
}

TEST(Probe, RunProbeComparesTheQueryRowsWithTheBaselineRows) {
  // 60 users; the "likes_x" label is visible in the query rows only.
  EmbeddingTable table;
  std::vector<ProbeLabel> labels;
  std::vector<int> y;
  for (int i = 0; i < 60; ++i) y.push_back((i * 7) % 5 < 2 ? 1 : 0);
  torch::Tensor query_rows = labelled_points(y, 4.0, 5).to(torch::kFloat);
  torch::Tensor base_rows = labelled_points(y, 0.0, 6).to(torch::kFloat);
  std::vector<torch::Tensor> rows;
  for (int i = 0; i < 60; ++i) {
    const std::string user = "u" + std::to_string(i);
    table.rows.push_back({user, "x"});
    table.rows.push_back({user, kHistoryMeanQueryId});
    rows.push_back(query_rows[i]);
    rows.push_back(base_rows[i]);
    labels.push_back({user, "likes_x", "x", y[size_t(i)]});
  }
  table.embeddings = torch::stack(rows);
  nlohmann::json report = run_probe(table, labels, ProbeConfig{});
  ASSERT_EQ(report["tasks"].size(), 1u);
  const auto& task = report["tasks"][0];
  EXPECT_EQ(task["users"], 60);
  EXPECT_GT(task["query"]["auc"].get<double>(), 0.95);
  EXPECT_LT(task["baseline"]["auc"].get<double>(), 0.8);

  labels.push_back({"nobody", "likes_x", "x", 1});
  UPM_EXPECT_THROW_WITH(run_probe(table, labels, ProbeConfig{}), InputError, "no embedding of user \"nobody\"");
}

TEST(Probe, LabelsFileErrorsNameLineAndField) {
  test::TempDir dir;
  const std::string path = dir.file("labels.jsonl");
  test::write_text_file(
      path,
      "{\"user_id\": \"u1\", \"task\": \"t\", \"label\": 1}\n{\"user_id\": \"u2\", \"task\": \"t\", \"label\": 2}\n");
  UPM_EXPECT_THROW_WITH(read_probe_labels(path), InputError, "labels.jsonl:2: label: must be 0 or 1");
  test::write_text_file(
      path,
      "{\"user_id\": \"u1\", \"task\": \"t\", \"label\": 1}\n{\"user_id\": \"u1\", \"task\": \"t\", \"label\": 0}\n");
  UPM_EXPECT_THROW_WITH(read_probe_labels(path), InputError, "labels.jsonl:2: user_id: duplicate label");
  test::write_text_file(path, "{\"user_id\": \"u1\", \"task\": \"t\", \"label\": 1}\n");
  auto labels = read_probe_labels(path);
  EXPECT_EQ(labels[0].query_id, "t");  // defaults to the task name
}

TEST(KMeans, RecoversSeparableClustersDeterministically) {
  torch::manual_seed(11);
  const std::vector<std::vector<float>> centres{{0, 0, 0}, {10, 0, 0}, {0, 10, 5}};
  std::vector<torch::Tensor> points;
  std::vector<int64_t> truth;
  for (int64_t c = 0; c < 3; ++c) {
    for (int i = 0; i < 30; ++i) {
      points.push_back(torch::tensor(centres[size_t(c)]) + 0.5 * torch::randn({3}));
      truth.push_back(c);
    }
  }
  torch::Tensor x = torch::stack(points);
  KMeansConfig config;
  config.k = 3;
  config.seed = 5;
  KMeansResult r = kmeans(x, config);
  EXPECT_TRUE(r.converged);
  // Same partition as the truth, up to a renaming of the clusters.
  std::map<int64_t, int64_t> name;
  for (size_t i = 0; i < truth.size(); ++i) {
    auto [it, fresh] = name.emplace(truth[i], r.assignments[i]);
    EXPECT_EQ(it->second, r.assignments[i]) << "point " << i;
  }
  EXPECT_EQ(name.size(), 3u);
  std::set<int64_t> distinct;
  for (auto& [t, c] : name) distinct.insert(c);
  EXPECT_EQ(distinct.size(), 3u);
  // Each centroid sits near its true centre.
  for (auto& [t, c] : name) {
    EXPECT_LT((r.centroids[c] - torch::tensor(centres[size_t(t)])).norm().item<double>(), 0.5);
  }
  KMeansResult again = kmeans(x, config);
  EXPECT_TRUE(torch::equal(again.centroids, r.centroids));
  EXPECT_EQ(nearest_centroids(x, r.centroids), r.assignments);

  config.k = 91;
  UPM_EXPECT_THROW_WITH(kmeans(x, config), InputError, "k = 91 for 90 points");
}

TEST(KMeans, DuplicatePointsStillGiveKClusters) {
  torch::Tensor x = torch::zeros({5, 2});
  x[4][0] = 1;
  KMeansConfig config;
  config.k = 3;
  KMeansResult r = kmeans(x, config);
  EXPECT_EQ(r.centroids.size(0), 3);
  EXPECT_FALSE(torch::isnan(r.centroids).any().item<bool>());
}

}  // namespace
}  // namespace upm
