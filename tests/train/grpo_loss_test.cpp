#include "upm/train/grpo_loss.h"

#include <cmath>

#include <torch/torch.h>

#include "test_util.h"
#include "upm/core/config.h"
#include "test_paths.h"

namespace {

using upm::GrpoLossConfig;

torch::Tensor tensor_2d(const nlohmann::json& rows) {
  std::vector<torch::Tensor> out;
  for (const auto& row : rows) out.push_back(torch::tensor(row.get<std::vector<double>>(), torch::kDouble));
  return torch::stack(out);
}

TEST(GrpoAdvantages, HandValuesWithStdScaling) {
  GrpoLossConfig config;
  auto adv = upm::group_advantages(torch::tensor({1.0, 0.0, 0.5, 2.0, 2.0, 2.0}, torch::kDouble), 3, config);
  // Group 1: mean 0.5, unbiased std 0.5 -> (+1, -1, 0) / (1 + 2e-4).
  const double scale = 0.5 / (0.5 + 1e-4);
  EXPECT_NEAR(adv[0].item<double>(), scale, 1e-12);
  EXPECT_NEAR(adv[1].item<double>(), -scale, 1e-12);
  EXPECT_NEAR(adv[2].item<double>(), 0.0, 1e-12);
  // Group 2: zero std -> all zero, not NaN.
  for (int i = 3; i < 6; ++i) EXPECT_EQ(adv[i].item<double>(), 0.0);
}

TEST(GrpoAdvantages, MeanOnlyForDrGrpo) {
  GrpoLossConfig config;
  config.scale_by_std = false;
  auto adv = upm::group_advantages(torch::tensor({1.0, 0.0, 0.5, 0.25}, torch::kDouble), 4, config);
  EXPECT_NEAR(adv[0].item<double>(), 0.5625, 1e-12);
  EXPECT_NEAR(adv[1].item<double>(), -0.4375, 1e-12);
  EXPECT_NEAR(adv[3].item<double>(), -0.1875, 1e-12);
}

TEST(GrpoAdvantages, NanRewardsAreLeftOutAndGetZero) {
  GrpoLossConfig config;
  config.scale_by_std = false;
  const double nan = std::nan("");
  auto adv = upm::group_advantages(torch::tensor({1.0, nan, 0.0, nan, nan, nan}, torch::kDouble), 3, config);
  EXPECT_NEAR(adv[0].item<double>(), 0.5, 1e-12);
  EXPECT_EQ(adv[1].item<double>(), 0.0);
  EXPECT_NEAR(adv[2].item<double>(), -0.5, 1e-12);
  for (int i = 3; i < 6; ++i) EXPECT_EQ(adv[i].item<double>(), 0.0);  // all-NaN group
  EXPECT_FALSE(torch::isnan(upm::group_advantages(torch::tensor({nan, 1.0}, torch::kDouble), 2, GrpoLossConfig{}))
                   .any()
                   .item<bool>());
}

TEST(GrpoAdvantages, RejectsRaggedGroups) {
  EXPECT_THROW(upm::group_advantages(torch::zeros({5}), 2, GrpoLossConfig{}), upm::Error);
}

// Loss and gradient on a fixed batch against tools/reference/grpo_reference.py.
TEST(GrpoLossParity, LossAndGradientMatchReference) {
  auto golden = nlohmann::json::parse(upm::test::read_text(upm::test::test_data_dir() + "/train/grpo_golden.json"));
  auto old_lp = tensor_2d(golden["old_logprobs"]);
  auto ref_lp = tensor_2d(golden["ref_logprobs"]);
  auto mask = tensor_2d(golden["mask"]);
  auto rewards = torch::tensor(golden["rewards"].get<std::vector<double>>(), torch::kDouble);
  ASSERT_EQ(golden["cases"].size(), 8u);
  for (const auto& c : golden["cases"]) {
    GrpoLossConfig config;
    config.scale_by_std = c["scale_by_std"];
    config.kl_beta = c["kl_beta"];
    config.aggregation = c["aggregation"];
    config.clip_low = c["clip_low"];
    config.clip_high = c["clip_high"];
    auto adv = upm::group_advantages(rewards, golden["group_size"], config);
    auto expected_adv = torch::tensor(c["advantages"].get<std::vector<double>>(), torch::kDouble);
    EXPECT_TRUE(torch::allclose(adv, expected_adv, 0, 1e-12)) << c["aggregation"];

    auto new_lp = tensor_2d(golden["new_logprobs"]).requires_grad_(true);
    auto terms = upm::grpo_loss(new_lp, old_lp, ref_lp, adv, mask, config);
    terms.loss.backward();
    EXPECT_NEAR(terms.loss.item<double>(), c["loss"].get<double>(), 1e-12);
    auto expected_grad = tensor_2d(c["grad"]);
    EXPECT_LT((new_lp.grad() - expected_grad).abs().max().item<double>(), 1e-12);
    EXPECT_GT(terms.clip_fraction.item<double>(), 0.0);  // the batch straddles the bounds
    EXPECT_GE(terms.kl.item<double>(), 0.0);
  }
}

TEST(GrpoLoss, OnPolicyLossIsMinusMeanAdvantageAndKlZero) {
  // At ratio 1 and new == ref, the surrogate is -A per token and k3 KL is 0.
  auto lp = torch::full({2, 3}, -1.0, torch::kDouble).requires_grad_(true);
  auto mask = torch::tensor({{1.0, 1.0, 1.0}, {1.0, 0.0, 0.0}}, torch::kDouble);
  GrpoLossConfig config;
  config.kl_beta = 0.1;
  auto terms = upm::grpo_loss(lp, lp.detach(), lp.detach(), torch::tensor({1.0, -2.0}, torch::kDouble), mask, config);
  EXPECT_NEAR(terms.loss.item<double>(), -(3 * 1.0 + 1 * -2.0) / 4.0, 1e-12);
  EXPECT_NEAR(terms.kl.item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(terms.clip_fraction.item<double>(), 0.0, 1e-12);
}

TEST(GrpoLoss, EntropyBonusSubtractsCoefTimesAggregatedEntropy) {
  // On policy with zero advantages only the bonus is left: loss = -coef x
  // (token mean | mean of sequence means) of the entropy, gradient -coef x
  // the aggregation weights, padding untouched.
  auto lp = torch::full({2, 3}, -1.0, torch::kDouble);
  auto mask = torch::tensor({{1.0, 1.0, 1.0}, {1.0, 0.0, 0.0}}, torch::kDouble);
  auto entropy = torch::tensor({{0.5, 1.0, 1.5}, {2.0, 9.0, 9.0}}, torch::kDouble).requires_grad_(true);
  GrpoLossConfig config;
  config.entropy_coef = 0.1;
  auto terms = upm::grpo_loss(lp, lp, torch::Tensor(), torch::zeros({2}, torch::kDouble), mask, config, entropy);
  EXPECT_NEAR(terms.loss.item<double>(), -0.1 * (0.5 + 1.0 + 1.5 + 2.0) / 4.0, 1e-12);
  EXPECT_NEAR(terms.entropy.item<double>(), 5.0 / 4.0, 1e-12);
  terms.loss.backward();
  EXPECT_TRUE(torch::allclose(entropy.grad(), -0.1 * mask / 4.0));

  config.aggregation = "sequence";
  auto seq = upm::grpo_loss(lp, lp, torch::Tensor(), torch::zeros({2}, torch::kDouble), mask, config, entropy.detach());
  EXPECT_NEAR(seq.loss.item<double>(), -0.1 * (1.0 + 2.0) / 2.0, 1e-12);
  // A positive coefficient without the entropy is a programming error, not a silent no-op.
  EXPECT_THROW(upm::grpo_loss(lp, lp, torch::Tensor(), torch::zeros({2}, torch::kDouble), mask, config), upm::Error);
}

TEST(GrpoLoss, ConfigRejectsUnknownAggregation) {
  UPM_EXPECT_THROW_WITH(upm::config_from_json<GrpoLossConfig>({{"aggregation", "tokens"}}, "rl.json"), upm::InputError,
                        "aggregation: must be one of {token, sequence, sequence_sum}");
}

// The KL estimators on hand values: d = ref - new = ln 2 and -ln 2.
TEST(GrpoLoss, KlEstimatorsByHand) {
  const double l2 = std::log(2.0);
  auto fresh = torch::tensor({0.0, 0.0}, torch::kDouble);
  auto ref = torch::tensor({l2, -l2}, torch::kDouble);
  auto k1 = upm::kl_estimate(fresh, ref, "k1");
  EXPECT_NEAR(k1[0].item<double>(), -l2, 1e-12);
  EXPECT_NEAR(k1[1].item<double>(), l2, 1e-12);
  auto k2 = upm::kl_estimate(fresh, ref, "k2");
  EXPECT_NEAR(k2[0].item<double>(), 0.5 * l2 * l2, 1e-12);
  EXPECT_NEAR(k2[1].item<double>(), 0.5 * l2 * l2, 1e-12);
  auto k3 = upm::kl_estimate(fresh, ref, "k3");
  EXPECT_NEAR(k3[0].item<double>(), 2.0 - l2 - 1.0, 1e-12);
  EXPECT_NEAR(k3[1].item<double>(), 0.5 + l2 - 1.0, 1e-12);
  EXPECT_THROW(upm::kl_estimate(fresh, ref, "k4"), upm::Error);
}

// One sequence of 1 token and one of 3, ratio 1 (old = new), no KL: the
// per-token surrogate is -advantage, so each aggregation is hand-computable.
TEST(GrpoLoss, AggregationsByHand) {
  auto lp = torch::zeros({2, 3}, torch::kDouble);
  auto mask = tensor_2d(nlohmann::json::parse("[[1, 0, 0], [1, 1, 1]]"));
  auto adv = torch::tensor({1.0, -2.0}, torch::kDouble);
  GrpoLossConfig config;
  config.aggregation = "token";  // (-1 + 3 x 2) / 4 tokens
  EXPECT_NEAR(upm::grpo_loss(lp, lp, torch::Tensor(), adv, mask, config).loss.item<double>(), 5.0 / 4.0, 1e-12);
  config.aggregation = "sequence";  // mean of (-1, +2)
  EXPECT_NEAR(upm::grpo_loss(lp, lp, torch::Tensor(), adv, mask, config).loss.item<double>(), 0.5, 1e-12);
  config.aggregation = "sequence_sum";  // mean of (-1, +6)
  EXPECT_NEAR(upm::grpo_loss(lp, lp, torch::Tensor(), adv, mask, config).loss.item<double>(), 2.5, 1e-12);
}

TEST(GrpoLoss, TheKlTermUsesTheChosenEstimator) {
  auto fresh = torch::zeros({1, 2}, torch::kDouble);
  auto ref = torch::full({1, 2}, std::log(2.0), torch::kDouble);
  auto mask = torch::ones({1, 2}, torch::kDouble);
  auto adv = torch::zeros({1}, torch::kDouble);
  GrpoLossConfig config;
  config.kl_beta = 0.5;
  config.kl_estimator = "k2";
  auto terms = upm::grpo_loss(fresh, fresh, ref, adv, mask, config);
  const double k2 = 0.5 * std::log(2.0) * std::log(2.0);
  EXPECT_NEAR(terms.kl.item<double>(), k2, 1e-12);
  EXPECT_NEAR(terms.loss.item<double>(), 0.5 * k2, 1e-12);
}

// KL in the reward on hand values. Row 0: d = ref - new = (ln 2, -ln 2, 0);
// row 1: d = (ln 2, ln 2) and a masked third token whose d of 5 must not count.
TEST(KlInReward, PenaltyIsCoefTimesTheSummedEstimateByHand) {
  const double l2 = std::log(2.0);
  auto fresh = tensor_2d({{-1.0, -1.0, -1.0}, {-2.0, -2.0, -5.0}});
  auto ref = tensor_2d({{-1.0 + l2, -1.0 - l2, -1.0}, {-2.0 + l2, -2.0 + l2, 0.0}});
  auto mask = tensor_2d({{1, 1, 1}, {1, 1, 0}});
  auto penalty = [&](const char* estimator) {
    auto p = upm::kl_reward_penalty(fresh, ref, mask, 0.5, estimator);
    EXPECT_EQ(p.scalar_type(), torch::kDouble);
    return std::vector<double>{p[0].item<double>(), p[1].item<double>()};
  };
  // k1 = -d: sums 0 and -2 ln 2.
  auto k1 = penalty("k1");
  EXPECT_NEAR(k1[0], 0.0, 1e-12);
  EXPECT_NEAR(k1[1], 0.5 * -2.0 * l2, 1e-12);
  // k2 = d^2 / 2: sums ln^2 2 for both rows.
  auto k2 = penalty("k2");
  EXPECT_NEAR(k2[0], 0.5 * l2 * l2, 1e-12);
  EXPECT_NEAR(k2[1], 0.5 * l2 * l2, 1e-12);
  // k3 = e^d - d - 1: (1 - ln 2) + (ln 2 - 0.5) + 0 = 0.5; 2 (1 - ln 2).
  auto k3 = penalty("k3");
  EXPECT_NEAR(k3[0], 0.5 * 0.5, 1e-12);
  EXPECT_NEAR(k3[1], 0.5 * 2.0 * (1.0 - l2), 1e-12);
  EXPECT_THROW(upm::kl_reward_penalty(fresh, ref, mask.narrow(1, 0, 2), 0.5, "k1"), upm::Error);

  // Equal task rewards of one group get a spread from the penalty: with k1,
  // rewards 1 - 0 and 1 + ln 2, Dr. GRPO advantages -/+ ln 2 / 2.
  GrpoLossConfig config;
  config.scale_by_std = false;
  auto rewards = torch::tensor({1.0, 1.0}, torch::kDouble) - upm::kl_reward_penalty(fresh, ref, mask, 0.5, "k1");
  auto adv = upm::group_advantages(rewards, 2, config);
  EXPECT_NEAR(adv[0].item<double>(), -l2 / 2.0, 1e-12);
  EXPECT_NEAR(adv[1].item<double>(), l2 / 2.0, 1e-12);
}

}  // namespace
