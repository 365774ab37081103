#include <cmath>

#include <torch/torch.h>

#include "upm/model/layers.h"

namespace upm {

namespace {

// Llama 3.1's frequency-dependent scaling (transformers'
// _compute_llama3_parameters): long wavelengths are stretched by `factor`,
// short ones kept, the band between blended smoothly.
torch::Tensor llama3_scaled(const torch::Tensor& inv_freq, const RopeScaling& rs) {
  const double old_context = double(rs.original_max_position_embeddings);
  const double low_freq_wavelen = old_context / rs.low_freq_factor;
  const double high_freq_wavelen = old_context / rs.high_freq_factor;
  torch::Tensor wavelen = 2 * M_PI / inv_freq;
  torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / rs.factor, inv_freq);
  torch::Tensor smooth = (old_context / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
  torch::Tensor smoothed = (1 - smooth) * scaled / rs.factor + smooth * scaled;
  torch::Tensor medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return torch::where(medium, smoothed, scaled);
}

}  // namespace

RotaryEmbedding::RotaryEmbedding(const ModelConfig& config) {
  const int64_t dim = config.head_dim;
  // inv_freq[i] = theta^(-2i/dim), computed as transformers does (int64 arange -> float).
  torch::Tensor exponent = torch::arange(0, dim, 2, torch::kLong).to(torch::kFloat) / double(dim);
  inv_freq_ = 1.0 / torch::pow(config.rope_theta, exponent);
  if (config.rope_scaling.type == "linear") inv_freq_ = inv_freq_ / config.rope_scaling.factor;
  if (config.rope_scaling.type == "llama3") inv_freq_ = llama3_scaled(inv_freq_, config.rope_scaling);
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbedding::tables(const torch::Tensor& positions,
                                                                c10::ScalarType dtype) const {
  // freqs [B, T, D/2] in fp32, duplicated to [B, T, D] (rotate-half layout).
  torch::Tensor inv = inv_freq_.to(positions.device());
  torch::Tensor freqs = positions.to(torch::kFloat).unsqueeze(-1) * inv;
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
}

torch::Tensor RotaryEmbedding::apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace upm
