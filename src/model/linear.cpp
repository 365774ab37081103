#include <torch/torch.h>

#include "upm/model/bf16_gemv.h"
#include "upm/model/decode_fusion.h"
#include "upm/model/layers.h"

namespace upm {

Linear::Linear(int64_t in, int64_t out, bool with_bias, const torch::TensorOptions& options) {
  weight = register_parameter("weight", torch::empty({out, in}, options));
  if (with_bias) bias = register_parameter("bias", torch::empty({out}, options));
}

torch::Tensor Linear::forward(const torch::Tensor& x) const {
  torch::Tensor y;
  // One fp32 row (batch-1 decode): a matrix-vector product. OpenBLAS's sgemm
  // packs the whole weight matrix on every call even for a single row
  // (measured: a third of batch-1 decode time); sgemv streams it once.
  if (fp32_gemv_applies(x, weight, bias)) {
    // The same as the torch::mv below, streamed by our own loop (faster at
    // one thread; see bf16_gemv.h).
    y = fp32_gemv(x, weight, bias);
  } else if (x.scalar_type() == torch::kFloat && x.numel() == weight.size(1) && x.device().is_cpu()) {
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes.back() = weight.size(0);
    y = torch::mv(weight, x.reshape({-1}));
    if (bias.defined()) y = y + bias;
    y = y.view(sizes);
  } else if (bf16_gemv_applies(x, weight, bias)) {
    // One or two bf16 rows (batch-1 decode): oneDNN's bf16 GEMM is compute-limited
    // there; a GEMV that streams the weight once is bandwidth-limited.
    y = bf16_gemv(x, weight, bias);
  } else {
    y = torch::linear(x, weight, bias);
  }
  return adapter ? y + adapter->forward(x) : y;
}

Embedding::Embedding(int64_t vocab, int64_t dim, const torch::TensorOptions& options) {
  weight = register_parameter("weight", torch::empty({vocab, dim}, options));
}

torch::Tensor Embedding::forward(const torch::Tensor& ids) const { return torch::embedding(weight, ids); }

RMSNorm::RMSNorm(int64_t dim, double eps_, const torch::TensorOptions& options) : eps(eps_) {
  weight = register_parameter("weight", torch::empty({dim}, options));
}

torch::Tensor RMSNorm::forward(const torch::Tensor& x) const {
  // bf16 CPU rows without autograd (decode, prefill): one pass per row, no
  // fp32 tensor round trip.
  if (fused_rms_norm_applies(x, weight)) return fused_rms_norm(x, weight, eps);
  // Normalise in fp32 and scale after casting back, exactly as HF's LlamaRMSNorm.
  torch::Tensor xf = x.to(torch::kFloat);
  xf = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * xf.to(x.scalar_type());
}

}  // namespace upm
