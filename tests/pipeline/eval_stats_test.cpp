#include "upm/pipeline/eval/eval_stats.h"

#include <cmath>
#include <random>

#include "test_util.h"
#include "upm/core/error.h"

namespace {

TEST(EvalStats, MeanIsExactAndIntervalCoversIt) {
  std::vector<double> correct{1, 0, 1, 1, 0, 1, 1, 1, 0, 1};  // 7 / 10
  auto e = upm::bootstrap_mean(correct, 0.95, 2000, 1);
  EXPECT_DOUBLE_EQ(e.mean, 0.7);
  EXPECT_EQ(e.n, 10);
  EXPECT_LT(e.low, 0.7);
  EXPECT_GT(e.high, 0.7);
  EXPECT_GE(e.low, 0.0);
  EXPECT_LE(e.high, 1.0);
}

TEST(EvalStats, DeterministicForASeed) {
  std::vector<double> v{0.1, 0.9, 0.4, 0.7, 0.3};
  auto a = upm::bootstrap_mean(v, 0.95, 500, 42), b = upm::bootstrap_mean(v, 0.95, 500, 42);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  auto c = upm::bootstrap_mean(v, 0.95, 500, 43);
  EXPECT_TRUE(a.low != c.low || a.high != c.high);
}

TEST(EvalStats, ConstantValuesGiveAZeroWidthInterval) {
  auto e = upm::bootstrap_mean({0.5, 0.5, 0.5}, 0.95, 100, 0);
  EXPECT_DOUBLE_EQ(e.low, 0.5);
  EXPECT_DOUBLE_EQ(e.high, 0.5);
}

// For many Bernoulli(0.6) outcomes the percentile interval approaches the
// normal one: 0.6 +- 1.96 * sqrt(0.24 / n).
TEST(EvalStats, WidthMatchesNormalApproximationForLargeSamples) {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i % 5 < 3 ? 1.0 : 0.0);
  auto e = upm::bootstrap_mean(v, 0.95, 4000, 7);
  double half_width = 1.96 * std::sqrt(0.24 / 1000.0);
  EXPECT_NEAR(e.high - e.low, 2 * half_width, 0.15 * 2 * half_width);
  EXPECT_NEAR((e.high + e.low) / 2, 0.6, 0.005);
}

TEST(EvalStats, EmptyInputIsNaNNotACrash) {
  auto e = upm::bootstrap_mean({});
  EXPECT_EQ(e.n, 0);
  EXPECT_TRUE(std::isnan(e.mean));
}

TEST(EvalStats, PairedDifferenceAndGroups) {
  auto d = upm::bootstrap_mean_difference({1, 1, 1, 0}, {0, 1, 0, 0}, 0.95, 500, 3);
  EXPECT_DOUBLE_EQ(d.mean, 0.5);
  EXPECT_THROW(upm::bootstrap_mean_difference({1}, {1, 2}), upm::Error);

  auto groups = upm::bootstrap_by_group({1, 0, 1, 1}, {"movies", "chat", "movies", "chat"});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_DOUBLE_EQ(groups["movies"].mean, 1.0);
  EXPECT_DOUBLE_EQ(groups["chat"].mean, 0.5);
  EXPECT_EQ(groups["chat"].n, 2);
}

}  // namespace

namespace {

// scikit-learn's roc_auc_score example: 0.75.
TEST(EvalStats, AucOfAKnownExampleWithInterval) {
  std::vector<double> scores{0.1, 0.4, 0.35, 0.8};
  std::vector<int> labels{0, 0, 1, 1};
  auto e = upm::bootstrap_auc(scores, labels, 0.95, 500, 1);
  EXPECT_DOUBLE_EQ(e.mean, 0.75);
  EXPECT_EQ(e.n, 4);
  EXPECT_LE(e.low, 0.75);
  EXPECT_GE(e.high, 0.75);
  EXPECT_GE(e.low, 0.0);
  EXPECT_LE(e.high, 1.0);
  auto again = upm::bootstrap_auc(scores, labels, 0.95, 500, 1);
  EXPECT_EQ(e.low, again.low);
  EXPECT_EQ(e.high, again.high);
  // One class only: NaN, not a crash or an endless redraw.
  EXPECT_TRUE(std::isnan(upm::bootstrap_auc({0.2, 0.3}, {1, 1}).mean));
  EXPECT_THROW(upm::bootstrap_auc({0.2}, {1, 0}), upm::Error);
}

// Scores drawn from N(0, 1) for negatives and N(1, 1) for positives: the AUC
// is Phi(1 / sqrt 2) = 0.7602, within the interval for 2,000 items.
TEST(EvalStats, AucIntervalCoversTheBinormalValue) {
  std::mt19937_64 generator(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> scores;
  std::vector<int> labels;
  for (int i = 0; i < 2000; ++i) {
    labels.push_back(i % 2);
    scores.push_back(normal(generator) + (i % 2));
  }
  auto e = upm::bootstrap_auc(scores, labels, 0.95, 400, 2);
  EXPECT_NEAR(e.mean, 0.7602, 0.03);
  EXPECT_LT(e.low, 0.7602);
  EXPECT_GT(e.high, 0.7602);
  EXPECT_LT(e.high - e.low, 0.06);
}

}  // namespace
