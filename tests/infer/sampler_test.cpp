#include "upm/infer/sampler.h"

#include <cmath>

#include <torch/torch.h>

#include "test_util.h"

namespace {

using upm::SamplingConfig;

// Logits whose softmax is exactly `probs`.
torch::Tensor logits_of(std::vector<float> probs) { return torch::tensor(probs).log().unsqueeze(0); }

std::vector<bool> kept(const torch::Tensor& filtered) {
  std::vector<bool> out;
  auto row = filtered[0];
  for (int64_t i = 0; i < row.size(0); ++i) out.push_back(std::isfinite(row[i].item<float>()));
  return out;
}

TEST(Sampler, TopKKeepsTheKLargest) {
  auto logits = logits_of({0.1f, 0.4f, 0.2f, 0.3f});
  EXPECT_EQ(kept(upm::apply_top_k(logits, 2)), (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(kept(upm::apply_top_k(logits, 0)), (std::vector<bool>{true, true, true, true}));
  EXPECT_EQ(kept(upm::apply_top_k(logits, 10)), (std::vector<bool>{true, true, true, true}));
}

TEST(Sampler, TopPKeepsSmallestSetReachingP) {
  // Sorted: 0.5, 0.3, 0.15, 0.05. Mass of the two best is 0.8.
  auto logits = logits_of({0.15f, 0.5f, 0.05f, 0.3f});
  EXPECT_EQ(kept(upm::apply_top_p(logits, 0.75)), (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(kept(upm::apply_top_p(logits, 0.85)), (std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(kept(upm::apply_top_p(logits, 0.4)), (std::vector<bool>{false, true, false, false}));
  // Even a tiny p keeps the best token.
  EXPECT_EQ(kept(upm::apply_top_p(logits, 1e-6)), (std::vector<bool>{false, true, false, false}));
}

// The fast path (best 1024 tokens first) must agree with the plain
// definition on large vocabularies, for peaked and for flat rows (where it
// falls back to a full sort).
TEST(Sampler, TopPMatchesFullSortDefinitionOnLargeVocab) {
  torch::manual_seed(1);
  auto peaked = torch::randn({3, 5000}) * 4.0;
  auto flat = torch::randn({2, 5000}) * 0.01;
  for (const auto& logits : {peaked, flat}) {
    for (double p : {0.1, 0.5, 0.9, 0.99}) {
      auto filtered = upm::apply_top_p(logits, p);
      auto [sorted, order] = logits.sort(1, /*descending=*/true);
      auto probs = sorted.softmax(1);
      for (int64_t b = 0; b < logits.size(0); ++b) {
        double above = 0;
        for (int64_t r = 0; r < logits.size(1); ++r) {
          int64_t token = order[b][r].item<int64_t>();
          bool expect_kept = r == 0 || above < p;
          ASSERT_EQ(std::isfinite(filtered[b][token].item<float>()), expect_kept)
              << "row " << b << " rank " << r << " p " << p;
          above += probs[b][r].item<double>();
          if (above > p + 0.05) break;  // the rest are all dropped; checked below
        }
        int64_t kept_count = torch::isfinite(filtered[b]).sum().item<int64_t>();
        int64_t expected = 0;
        double mass = 0;
        while (expected < logits.size(1) && (expected == 0 || mass < p)) {
          mass += probs[b][expected].item<double>();
          ++expected;
        }
        EXPECT_EQ(kept_count, expected) << "row " << b << " p " << p;
      }
    }
  }
}

TEST(Sampler, MinPKeepsTokensAboveFractionOfBest) {
  auto logits = logits_of({0.15f, 0.5f, 0.05f, 0.3f});
  // threshold 0.2 * 0.5 = 0.1
  EXPECT_EQ(kept(upm::apply_min_p(logits, 0.2)), (std::vector<bool>{true, true, false, true}));
  // threshold 0.7 * 0.5 = 0.35
  EXPECT_EQ(kept(upm::apply_min_p(logits, 0.7)), (std::vector<bool>{false, true, false, false}));
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  auto logits = torch::tensor({2.0f, -1.0f, 0.5f, 3.0f}).unsqueeze(0);
  auto out = upm::apply_repetition_penalty(logits, {{0, 1, 1}}, 2.0);
  EXPECT_FLOAT_EQ(out[0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(out[0][1].item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(out[0][2].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(out[0][3].item<float>(), 3.0f);
}

TEST(Sampler, ChainAppliesTemperatureThenFilters) {
  SamplingConfig config;
  config.temperature = 0.5;
  config.top_k = 2;
  auto probs = upm::sampling_probabilities(logits_of({0.1f, 0.4f, 0.2f, 0.3f}), config);
  // Temperature 0.5 squares the probabilities; top-2 keeps 0.4 and 0.3.
  float a = 0.4f * 0.4f, b = 0.3f * 0.3f;
  EXPECT_NEAR(probs[0][1].item<float>(), a / (a + b), 1e-6);
  EXPECT_NEAR(probs[0][3].item<float>(), b / (a + b), 1e-6);
  EXPECT_FLOAT_EQ(probs[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(probs[0][2].item<float>(), 0.0f);
}

TEST(Sampler, GreedyPicksArgmax) {
  SamplingConfig config;
  config.temperature = 0.0;
  upm::TokenSampler sampler(config, 2);
  auto logits = torch::tensor({{0.1f, 3.0f, 0.2f}, {5.0f, 1.0f, 0.0f}});
  EXPECT_EQ(sampler.sample(logits, {0, 1}), (std::vector<upm::TokenId>{1, 0}));
}

TEST(Sampler, SeededDrawsAreReproducibleAndFollowTheDistribution) {
  SamplingConfig config;
  config.seed = 42;
  auto logits = logits_of({0.1f, 0.6f, 0.3f});
  upm::TokenSampler first(config, 1), second(config, 1);
  std::vector<int> counts(3, 0);
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    auto a = first.sample(logits, {0});
    auto b = second.sample(logits, {0});
    ASSERT_EQ(a, b);
    ++counts[a[0]];
  }
  // Binomial std at n=4000 is <= 0.008; allow 4 sigma.
  EXPECT_NEAR(counts[0] / double(n), 0.1, 0.032);
  EXPECT_NEAR(counts[1] / double(n), 0.6, 0.032);
  EXPECT_NEAR(counts[2] / double(n), 0.3, 0.032);
}

TEST(Sampler, FilteredTokensAreNeverDrawn) {
  SamplingConfig config;
  config.seed = 7;
  config.top_k = 1;
  upm::TokenSampler sampler(config, 1);
  auto logits = logits_of({0.45f, 0.55f});
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sampler.sample(logits, {0})[0], 1);
}

// A batch of sequences draws what separate single-sequence runs with the same
// seeds draw: the basis of shared-prefix group sampling.
TEST(Sampler, BatchedRowsMatchSeparateRunsWithSameSeeds) {
  SamplingConfig config;
  config.seed = 3;
  config.top_p = 0.9;
  torch::manual_seed(0);
  auto logits = torch::randn({4, 50});
  upm::TokenSampler batch(config, 4);
  std::vector<std::vector<upm::TokenId>> batched(4), separate(4);
  for (int step = 0; step < 20; ++step) {
    auto tokens = batch.sample(logits, {0, 1, 2, 3});
    for (int r = 0; r < 4; ++r) batched[r].push_back(tokens[r]);
  }
  for (int r = 0; r < 4; ++r) {
    upm::TokenSampler single(config, std::vector<uint64_t>{upm::sequence_seed(config.seed, r)});
    for (int step = 0; step < 20; ++step) {
      separate[r].push_back(single.sample(logits.slice(0, r, r + 1), {0})[0]);
    }
  }
  EXPECT_EQ(batched, separate);
  EXPECT_NE(batched[0], batched[1]);
}

TEST(Sampler, ConfigValidatesRanges) {
  UPM_EXPECT_THROW_WITH(upm::config_from_json<SamplingConfig>({{"top_p", 1.5}}, "s.json"), upm::InputError,
                        "top_p: must be <= 1");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<SamplingConfig>({{"temperature", -1}}, "s.json"), upm::InputError,
                        "temperature: must be >= 0");
  auto c = upm::config_from_json<SamplingConfig>({{"seed", 18446744073709551615ULL}}, "s.json");
  EXPECT_EQ(c.seed, 18446744073709551615ULL);
}

}  // namespace
