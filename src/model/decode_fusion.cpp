#include "upm/model/decode_fusion.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/BFloat16.h>

#include "cpu_kernel_util.h"

namespace upm {
namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> flag{!env_switched_off("UPM_FUSED_DECODE")};
  return flag;
}

using bf16 = at::BFloat16;

// A torch op's bf16 output: round-to-nearest-even of the fp32 result.
inline float round_bf16(float v) { return static_cast<float>(bf16(v)); }

}  // namespace

void set_fused_decode_enabled(bool on) { enabled_flag().store(on); }
bool fused_decode_enabled() { return enabled_flag().load(); }

bool fused_rms_norm_applies(const at::Tensor& x, const at::Tensor& weight) {
  if (!fused_decode_enabled()) return false;
  if (x.scalar_type() != at::kBFloat16 || weight.scalar_type() != at::kBFloat16) return false;
  if (!x.device().is_cpu() || !weight.device().is_cpu() || x.dim() == 0 || x.numel() == 0) return false;
  if (weight.dim() != 1 || !weight.is_contiguous() || weight.size(0) != x.size(-1)) return false;
  if (x.numel() / x.size(-1) > kFusedNormMaxRows) return false;
  return !(at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()));
}

at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const int64_t dim = x.size(-1);
  const at::Tensor x2 = x.reshape({-1, dim}).contiguous();
  const int64_t rows = x2.size(0);
  at::Tensor y = at::empty(x.sizes(), x.options());
  const bf16* xp = x2.data_ptr<bf16>();
  const bf16* wp = weight.data_ptr<bf16>();
  bf16* yp = y.data_ptr<bf16>();
  const float eps_f = static_cast<float>(eps);
  for (int64_t r = 0; r < rows; ++r) {
    const bf16* xr = xp + r * dim;
    bf16* yr = yp + r * dim;
    float sum = 0.0f;
    for (int64_t i = 0; i < dim; ++i) {
      const float v = static_cast<float>(xr[i]);
      sum += v * v;
    }
    // As torch: mean and + eps in fp32, rsqrt, the product rounded to bf16,
    // then the bf16 multiplication by the weight.
    const float inv = 1.0f / std::sqrt(sum / static_cast<float>(dim) + eps_f);
    for (int64_t i = 0; i < dim; ++i) {
      yr[i] = bf16(static_cast<float>(wp[i]) * round_bf16(static_cast<float>(xr[i]) * inv));
    }
  }
  return y;
}

void fused_rotary_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t B = x.size(0), H = x.size(2), D = x.size(3), half = D / 2;
  bf16* xp = x.data_ptr<bf16>();
  const bf16* cp = cos.data_ptr<bf16>();
  const bf16* sp = sin.data_ptr<bf16>();
  std::vector<float> row(static_cast<size_t>(D));
  for (int64_t b = 0; b < B; ++b) {
    const bf16* cb = cp + b * cos.stride(0);
    const bf16* sb = sp + b * sin.stride(0);
    for (int64_t h = 0; h < H; ++h) {
      bf16* xr = xp + (b * H + h) * D;
      for (int64_t d = 0; d < D; ++d) row[size_t(d)] = static_cast<float>(xr[d]);
      for (int64_t d = 0; d < D; ++d) {
        // rotate_half(x)[d] = -x[d + half] for the first half, x[d - half] after.
        const float rotated = d < half ? -row[size_t(d + half)] : row[size_t(d - half)];
        const float c = static_cast<float>(cb[d * cos.stride(3)]), s = static_cast<float>(sb[d * sin.stride(3)]);
        xr[d] = bf16(round_bf16(row[size_t(d)] * c) + round_bf16(rotated * s));
      }
    }
  }
}

namespace {

// Independent fp32 partial sums: the dot products vectorise (a single
// running sum is a chain of dependent adds; measured 6% of decode).
constexpr int kLanes = 16;

// Scores of one query head over S keys (rows `key_stride` apart, the head
// dimension contiguous) and their softmax weights as the torch path
// (scaled_dot_product_attention's CPU flash kernel) has them: scores in fp32,
// exp(score - max) rounded to bf16 for the value product, normalised by the
// fp32 sum afterwards (attention_values).
UPM_MULTIVERSION
float attention_probs(const float* q, const bf16* keys, int64_t key_stride, int64_t S, int64_t D, const float* mask,
                     int64_t mask_stride, float scale, float* probs) {
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t s = 0; s < S; ++s) {
    const bf16* kr = keys + s * key_stride;
    float acc[kLanes] = {};
    int64_t d = 0;
    for (; d + kLanes <= D; d += kLanes) {
      for (int j = 0; j < kLanes; ++j) acc[j] += q[d + j] * static_cast<float>(kr[d + j]);
    }
    for (int width = kLanes / 2; width >= 1; width /= 2) {
      for (int j = 0; j < width; ++j) acc[j] += acc[j + width];
    }
    float dot = acc[0];
    for (; d < D; ++d) dot += q[d] * static_cast<float>(kr[d]);
    const float score = dot * scale + mask[s * mask_stride];
    probs[s] = score;
    top = std::max(top, score);
  }
  float total = 0.0f;
  for (int64_t s = 0; s < S; ++s) {
    probs[s] = std::exp(probs[s] - top);
    total += probs[s];
  }
  for (int64_t s = 0; s < S; ++s) probs[s] = round_bf16(probs[s]);
  return total;
}

// out[d] = bf16(sum_s probs[s] * values[s, d] / total) (rows `value_stride` apart).
UPM_MULTIVERSION
void attention_values(const float* probs, float total, const bf16* values, int64_t value_stride, int64_t S, int64_t D,
                      float* acc, bf16* out) {
  for (int64_t d = 0; d < D; ++d) acc[d] = 0.0f;
  for (int64_t s = 0; s < S; ++s) {
    const bf16* vr = values + s * value_stride;
    const float p = probs[s];
    for (int64_t d = 0; d < D; ++d) acc[d] += p * static_cast<float>(vr[d]);
  }
  const float inv_total = 1.0f / total;
  for (int64_t d = 0; d < D; ++d) out[d] = bf16(acc[d] * inv_total);
}

}  // namespace

at::Tensor fused_decode_attention(const at::Tensor& q, const at::Tensor& keys_in, const at::Tensor& values_in,
                                  const at::Tensor& mask, double scale) {
  // The kernels read the head dimension contiguously (cache views are).
  const at::Tensor keys = keys_in.stride(3) == 1 ? keys_in : keys_in.contiguous();
  const at::Tensor values = values_in.stride(3) == 1 ? values_in : values_in.contiguous();
  const int64_t B = q.size(0), H = q.size(2), D = q.size(3);
  const int64_t KVH = keys.size(1), S = keys.size(2), groups = H / KVH;
  at::Tensor out = at::empty({B, 1, H * D}, q.options());
  const bf16* qp = q.data_ptr<bf16>();
  const bf16* kp = keys.data_ptr<bf16>();
  const bf16* vp = values.data_ptr<bf16>();
  const float* mp = mask.data_ptr<float>();
  bf16* op = out.data_ptr<bf16>();
  const float scale_f = static_cast<float>(scale);
  // One (row, head) per task; at ~S*D*4 flops each, group enough of them
  // that waking a thread pays.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, S * D));
  at::parallel_for(0, B * H, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> probs(static_cast<size_t>(S)), acc(static_cast<size_t>(D)), qf(static_cast<size_t>(D));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / H, h = task % H, kvh = h / groups;
      for (int64_t d = 0; d < D; ++d) qf[size_t(d)] = static_cast<float>(qp[task * D + d]);
      const float total = attention_probs(qf.data(), kp + b * keys.stride(0) + kvh * keys.stride(1), keys.stride(2),
                                          S, D, mp + b * mask.stride(0), mask.stride(3), scale_f, probs.data());
      attention_values(probs.data(), total, vp + b * values.stride(0) + kvh * values.stride(1), values.stride(2), S, D,
                       acc.data(), op + task * D);
    }
  });
  return out;
}

}  // namespace upm
