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

#include "bf16_rows.h"
#include "cpu_kernel_util.h"
#include "upm/model/prefill_fusion.h"

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
  if (x.dim() == 0 || x.numel() == 0) return false;
  const bool few_rows = x.numel() / x.size(-1) <= kFusedNormMaxRows;
  if (few_rows ? !fused_decode_enabled() : !fused_prefill_enabled()) return false;
  if (x.scalar_type() != at::kBFloat16 || weight.scalar_type() != at::kBFloat16) return false;
  if (!x.device().is_cpu() || !weight.device().is_cpu()) return false;
  if (weight.dim() != 1 || !weight.is_contiguous() || weight.size(0) != x.size(-1)) return false;
  return !(at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()));
}

namespace {

// Independent fp32 partial sums: the dot products vectorise (a single
// running sum is a chain of dependent adds; measured 6% of decode).
constexpr int kLanes = 16;

const uint16_t* bits(const at::Tensor& t) { return reinterpret_cast<const uint16_t*>(t.data_ptr<bf16>()); }
uint16_t* bits(at::Tensor& t) { return reinterpret_cast<uint16_t*>(t.data_ptr<bf16>()); }

}  // namespace

at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const int64_t dim = x.size(-1);
  const at::Tensor x2 = x.reshape({-1, dim}).contiguous();
  at::Tensor y = at::empty(x.sizes(), x.options());
  const uint16_t* xp = bits(x2);
  const uint16_t* wp = bits(weight);
  uint16_t* yp = bits(y);
  const float eps_f = static_cast<float>(eps);
  // Rows in tasks of ~16k elements: a thread is woken only where it pays.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, dim));
  at::parallel_for(0, x2.size(0), grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) bf16_rms_norm_row(xp + r * dim, wp, dim, eps_f, yp + r * dim);
  });
  return y;
}

void fused_rotary_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t B = x.size(0), T = x.size(1), H = x.size(2), D = x.size(3);
  // The kernel reads each table row contiguously.
  const at::Tensor c = cos.stride(3) == 1 ? cos : cos.contiguous();
  const at::Tensor s = sin.stride(3) == 1 ? sin : sin.contiguous();
  uint16_t* xp = bits(x);
  const uint16_t* cp = bits(c);
  const uint16_t* sp = bits(s);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, H * D));
  at::parallel_for(0, B * T, grain, [&](int64_t begin, int64_t end) {
    for (int64_t bt = begin; bt < end; ++bt) {
      const int64_t b = bt / T, t = bt % T;
      const uint16_t* cr = cp + b * c.stride(0) + t * c.stride(2);
      const uint16_t* sr = sp + b * s.stride(0) + t * s.stride(2);
      for (int64_t h = 0; h < H; ++h) {
        uint16_t* xr = xp + (bt * H + h) * D;
        bf16_rotary_row(xr, cr, sr, D, xr);
      }
    }
  });
}

namespace {

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
      const float total = attention_probs(qf.data(), kp + b * keys.stride(0) + kvh * keys.stride(1), keys.stride(2), S,
                                          D, mp + b * mask.stride(0), mask.stride(3), scale_f, probs.data());
      attention_values(probs.data(), total, vp + b * values.stride(0) + kvh * values.stride(1), values.stride(2), S, D,
                       acc.data(), op + task * D);
    }
  });
  return out;
}

}  // namespace upm
