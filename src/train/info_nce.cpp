#include "upm/train/info_nce.h"

#include <limits>
#include <vector>

#include <torch/torch.h>

#include "upm/core/error.h"

namespace upm {

InfoNceTerms info_nce_loss(const at::Tensor& anchors, const at::Tensor& positives, const InfoNceConfig& config) {
  if (anchors.dim() != 2 || positives.sizes() != anchors.sizes() || anchors.size(0) == 0) {
    throw Error("info_nce_loss: anchors and positives must both be [B, d] with B >= 1");
  }
  at::Tensor q = anchors, d = positives;
  if (config.normalize) {
    q = torch::nn::functional::normalize(q, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
    d = torch::nn::functional::normalize(d, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
  }
  const int64_t B = q.size(0);
  const double t = config.temperature;
  at::Tensor qd = torch::matmul(q, d.t());  // [B, B] s(q_i, d_j)
  at::Tensor pos = qd.diagonal();           // [B]
  // j == i is never a negative: the positive itself (qd, dq) or a self-pair (qq, dd).
  const at::Tensor self = torch::eye(B, torch::TensorOptions().dtype(torch::kBool).device(qd.device()));
  // The mask is a selection, not part of the gradient.
  const at::Tensor threshold = pos.detach().unsqueeze(1) + config.margin;

  InfoNceTerms out;
  // Column 0 holds the positive; each enabled kind adds B columns, row i's
  // entries of kind K being its candidate negatives s_K(i, j).
  std::vector<at::Tensor> logits{(pos / t).unsqueeze(1)};
  auto add_kind = [&](const at::Tensor& sim) {
    at::Tensor drop = self;
    if (config.margin >= 0) {
      const at::Tensor above = sim.detach().gt(threshold).logical_and(self.logical_not());
      out.masked += above.sum().item<int64_t>();
      drop = drop.logical_or(above);
    }
    logits.push_back((sim / t).masked_fill(drop, -std::numeric_limits<double>::infinity()));
  };
  const InfoNceNegatives& kinds = config.negatives;
  if (kinds.query_document) add_kind(qd);
  if (kinds.query_query) add_kind(torch::matmul(q, q.t()));
  if (kinds.document_query) add_kind(torch::matmul(d, q.t()));
  if (kinds.document_document) add_kind(torch::matmul(d, d.t()));

  at::Tensor target = torch::zeros({B}, torch::TensorOptions().dtype(torch::kLong).device(qd.device()));
  out.loss = torch::nn::functional::cross_entropy(torch::cat(logits, 1), target);
  out.similarity = qd.detach();
  return out;
}

}  // namespace upm
