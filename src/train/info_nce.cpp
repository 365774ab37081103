#include "upm/train/info_nce.h"

#include <limits>

#include <torch/torch.h>

#include "upm/core/error.h"

namespace upm {

InfoNceTerms info_nce_loss(const at::Tensor& anchors, const at::Tensor& positives, const InfoNceConfig& config) {
  if (anchors.dim() != 2 || positives.sizes() != anchors.sizes() || anchors.size(0) == 0) {
    throw Error("info_nce_loss: anchors and positives must both be [B, d] with B >= 1");
  }
  at::Tensor a = anchors, p = positives;
  if (config.normalize) {
    a = torch::nn::functional::normalize(a, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
    p = torch::nn::functional::normalize(p, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
  }
  const int64_t B = a.size(0);
  at::Tensor sim = torch::matmul(a, p.t());  // [B, B]
  at::Tensor eye = torch::eye(B, torch::TensorOptions().dtype(torch::kBool).device(sim.device()));
  at::Tensor logits = sim / config.temperature;
  InfoNceTerms out;
  if (config.margin >= 0) {
    // The mask is a selection, not part of the gradient.
    at::Tensor s = sim.detach();
    at::Tensor drop = s.gt(s.diagonal().unsqueeze(1) + config.margin).logical_and(eye.logical_not());
    out.masked = drop.sum().item<int64_t>();
    logits = logits.masked_fill(drop, -std::numeric_limits<double>::infinity());
  }
  at::Tensor target = torch::arange(B, torch::TensorOptions().dtype(torch::kLong).device(sim.device()));
  out.loss = torch::nn::functional::cross_entropy(logits, target);
  out.similarity = sim.detach();
  return out;
}

}  // namespace upm
