// InfoNCE with the Q-Anchor margin mask and GTE's negative kinds against
// tools/reference/info_nce_reference.py.
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
    config.negatives.query_document = c["negatives"]["query_document"];
    config.negatives.query_query = c["negatives"]["query_query"];
    config.negatives.document_query = c["negatives"]["document_query"];
    config.negatives.document_document = c["negatives"]["document_document"];
    auto anchors = from_json(golden["anchors"], B, D).requires_grad_(true);
    auto positives = from_json(golden["positives"], B, D).requires_grad_(true);
    upm::InfoNceTerms terms = upm::info_nce_loss(anchors, positives, config);
    terms.loss.backward();
    SCOPED_TRACE("temperature " + std::to_string(config.temperature) + " margin " + std::to_string(config.margin) +
                 " negatives " + c["negatives"].dump());
    EXPECT_NEAR(terms.loss.item<double>(), c["loss"].get<double>(), 1e-10);
    EXPECT_EQ(terms.masked, c["masked"].get<int64_t>());
    EXPECT_LT((anchors.grad() - from_json(c["grad_anchors"], B, D)).abs().max().item<double>(), 1e-10);
    EXPECT_LT((positives.grad() - from_json(c["grad_positives"], B, D)).abs().max().item<double>(), 1e-10);
    // The goldens pin every kind: with any one of several kinds left out the
    // loss is far from the reference.
    using Kind = bool upm::InfoNceNegatives::*;
    for (Kind kind : {&upm::InfoNceNegatives::query_document, &upm::InfoNceNegatives::query_query,
                      &upm::InfoNceNegatives::document_query, &upm::InfoNceNegatives::document_document}) {
      upm::InfoNceConfig fewer = config;
      if (!(fewer.negatives.*kind)) continue;
      fewer.negatives.*kind = false;
      const auto& n = fewer.negatives;
      if (!(n.query_document || n.query_query || n.document_query || n.document_document)) continue;
      const double dropped = upm::info_nce_loss(anchors, positives, fewer).loss.item<double>();
      EXPECT_GT(std::abs(dropped - c["loss"].get<double>()), 1e-3);
    }
  }
}

TEST(InfoNce, HandValueForTwoOrthogonalPairs) {
  // The classic InfoNCE (query-document negatives only).
  // Anchors e1, e2; positives e1, e2: s = I. Loss = log(e^{1/t} + e^0) - 1/t.
  auto eye = torch::eye(2, torch::kDouble);
  upm::InfoNceConfig config;
  config.temperature = 0.5;
  config.negatives.query_query = false;
  config.negatives.document_query = false;
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

TEST(InfoNce, HandValueWithQueryAndDocumentQueryNegatives) {
  // The defaults (Q-Anchor's three kinds), t = 0.5, margin 0.1.
  upm::InfoNceConfig config;
  config.temperature = 0.5;
  // s = I for every kind: Z_i = e^2 + 3 e^0 (one query-document, one
  // query-query, one document-query negative, each scoring 0).
  auto eye = torch::eye(2, torch::kDouble);
  EXPECT_NEAR(upm::info_nce_loss(eye, eye, config).loss.item<double>(), std::log(std::exp(2.0) + 3.0) - 2.0, 1e-12);
  // q = (1,0), (1,0); d = (0,1), (1,0).
  // Row 0: pos 0; s(q0,d1) = 1 and s(q0,q1) = 1 are masked (> 0.1); s(d0,q1) = 0 stays.
  // Row 1: pos 1; s(q1,d0) = 0, s(q1,q0) = 1, s(d1,q0) = 1 all stay (<= 1.1).
  auto anchors = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble).view({2, 2});
  auto positives = torch::tensor({0.0, 1.0, 1.0, 0.0}, torch::kDouble).view({2, 2});
  auto terms = upm::info_nce_loss(anchors, positives, config);
  EXPECT_EQ(terms.masked, 2);
  const double row0 = std::log(2.0), row1 = std::log(3.0 * std::exp(2.0) + 1.0) - 2.0;
  EXPECT_NEAR(terms.loss.item<double>(), (row0 + row1) / 2.0, 1e-12);
  // GTE's document-document term adds s(d0,d1) = 0 to row 0 and s(d1,d0) = 0 to row 1.
  config.negatives.document_document = true;
  const double gte0 = std::log(3.0), gte1 = std::log(3.0 * std::exp(2.0) + 2.0) - 2.0;
  EXPECT_NEAR(upm::info_nce_loss(anchors, positives, config).loss.item<double>(), (gte0 + gte1) / 2.0, 1e-12);
}

TEST(InfoNce, ConfigNeedsAtLeastOneKindOfNegative) {
  const nlohmann::json none = {
      {"negatives",
       {{"query_document", false}, {"query_query", false}, {"document_query", false}, {"document_document", false}}}};
  UPM_EXPECT_THROW_WITH(upm::config_from_json<upm::InfoNceConfig>(none, "test"), upm::InputError,
                        "negatives.query_document");
  const auto classic = upm::config_from_json<upm::InfoNceConfig>(
      {{"negatives", {{"query_query", false}, {"document_query", false}}}}, "test");
  EXPECT_TRUE(classic.negatives.query_document);
  EXPECT_FALSE(classic.negatives.query_query || classic.negatives.document_query ||
               classic.negatives.document_document);
}

}  // namespace
