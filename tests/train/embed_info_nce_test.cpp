// InfoNCE with the Q-Anchor margin mask against tools/reference/info_nce_reference.py.
#include "upm/train/info_nce.h"

#include <torch/torch.h>

#include "test_util.h"
#include "upm/core/config.h"
#include "test_paths.h"

namespace {

torch::Tensor from_json(const nlohmann::json& values, int64_t rows, int64_t cols) {
  return torch::tensor(values.get<std::vector<double>>(), torch::kDouble).view({rows, cols});
}

TEST(InfoNceParity, LossMaskAndGradientsMatchTheReference) {
  const nlohmann::json golden = upm::read_json_file(upm::test::test_data_dir() + "/train/embed_info_nce_golden.json");
  const int64_t B = golden["B"], D = golden["D"];
  for (const auto& c : golden["cases"]) {
    upm::InfoNceConfig config;
    config.temperature = c["temperature"];
    config.margin = c["margin"];
    config.normalize = c["normalize"];
    auto anchors = from_json(golden["anchors"], B, D).requires_grad_(true);
    auto positives = from_json(golden["positives"], B, D).requires_grad_(true);
    upm::InfoNceTerms terms = upm::info_nce_loss(anchors, positives, config);
    terms.loss.backward();
    SCOPED_TRACE("temperature " + std::to_string(config.temperature) + " margin " + std::to_string(config.margin));
    EXPECT_NEAR(terms.loss.item<double>(), c["loss"].get<double>(), 1e-10);
    EXPECT_EQ(terms.masked, c["masked"].get<int64_t>());
    EXPECT_LT((anchors.grad() - from_json(c["grad_anchors"], B, D)).abs().max().item<double>(), 1e-10);
    EXPECT_LT((positives.grad() - from_json(c["grad_positives"], B, D)).abs().max().item<double>(), 1e-10);
  }
}

TEST(InfoNce, HandValueForTwoOrthogonalPairs) {
  // Anchors e1, e2; positives e1, e2: s = I. Loss = log(e^{1/t} + e^0) - 1/t.
  auto eye = torch::eye(2, torch::kDouble);
  upm::InfoNceConfig config;
  config.temperature = 0.5;
  auto terms = upm::info_nce_loss(eye, eye, config);
  EXPECT_NEAR(terms.loss.item<double>(), std::log(std::exp(2.0) + 1.0) - 2.0, 1e-12);
  EXPECT_EQ(terms.masked, 0);
  // A negative identical to the anchor (s = 1 > 0 + margin) is masked: the loss is 0.
  auto anchors = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble).view({2, 2});
  auto positives = torch::tensor({0.0, 1.0, 1.0, 0.0}, torch::kDouble).view({2, 2});
  // Row 0: positive (0,1) scores 0, negative (1,0) scores 1 -> masked.
  auto masked = upm::info_nce_loss(anchors, positives, config);
  EXPECT_EQ(masked.masked, 1);
  // Row 0 keeps only its positive (loss 0); row 1 is the first case's row.
  EXPECT_NEAR(masked.loss.item<double>(), (std::log(std::exp(2.0) + 1.0) - 2.0) / 2.0, 1e-12);
  UPM_EXPECT_THROW_WITH(upm::info_nce_loss(eye, torch::eye(3, torch::kDouble), config), upm::Error, "[B, d]");
}

}  // namespace
