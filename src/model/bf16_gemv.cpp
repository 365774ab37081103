#include "upm/model/bf16_gemv.h"

#include <atomic>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/BFloat16.h>

// One compiled copy per instruction set, picked at load time (GCC/Clang
// function multi-versioning), so the library stays portable: AVX-512 and
// AVX2 machines get vector code, others the plain loop (ifuncs: glibc).
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && (!defined(__clang__) || __clang_major__ >= 14)
#define UPM_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define UPM_MULTIVERSION
#endif

namespace upm {
namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("UPM_BF16_GEMV");
    return !(env && std::strcmp(env, "0") == 0);
  }()};
  return flag;
}

// bf16 is the top half of an fp32: widening is a 16-bit left shift.
inline float widen(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Independent fp32 partial sums per dot product: enough vector registers
// (4 AVX-512 / 8 AVX2) that the adds do not wait on each other, so the loop
// keeps up with memory.
constexpr int kLanes = 64;

// y[m * out + o] = sum_k w[o, k] * x[m, k] for output rows [begin, end).
// Each weight row is read from memory once and then from L1 for the other
// input rows.
UPM_MULTIVERSION
void dot_rows(const uint16_t* w, const float* x, int64_t in, int64_t rows, int64_t out, int64_t begin,
              int64_t end, float* y) {
  for (int64_t o = begin; o < end; ++o) {
    const uint16_t* wo = w + o * in;
    for (int64_t m = 0; m < rows; ++m) {
      const float* xm = x + m * in;
      float acc[kLanes] = {};
      int64_t k = 0;
      for (; k + kLanes <= in; k += kLanes) {
        for (int j = 0; j < kLanes; ++j) acc[j] += widen(wo[k + j]) * xm[k + j];
      }
      // Pairwise folding keeps the reduction in vector adds; a serial sum of
      // the lanes was a dependency chain as long as the main loop (perf).
      for (int width = kLanes / 2; width >= 1; width /= 2) {
        for (int j = 0; j < width; ++j) acc[j] += acc[j + width];
      }
      float sum = acc[0];
      for (; k < in; ++k) sum += widen(wo[k]) * xm[k];
      y[m * out + o] = sum;
    }
  }
}

// x [rows, in] (any strides, bf16) -> dense fp32.
std::vector<float> widen_input(const at::Tensor& x2) {
  const int64_t rows = x2.size(0), in = x2.size(1), s0 = x2.stride(0), s1 = x2.stride(1);
  const auto* p = reinterpret_cast<const uint16_t*>(x2.data_ptr<at::BFloat16>());
  std::vector<float> out(size_t(rows * in));
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t k = 0; k < in; ++k) out[size_t(m * in + k)] = widen(p[m * s0 + k * s1]);
  }
  return out;
}

}  // namespace

void set_bf16_gemv_enabled(bool on) { enabled_flag().store(on); }
bool bf16_gemv_enabled() { return enabled_flag().load(); }

bool bf16_gemv_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (!bf16_gemv_enabled()) return false;
  if (x.scalar_type() != at::kBFloat16 || weight.scalar_type() != at::kBFloat16) return false;
  if (!x.device().is_cpu() || !weight.device().is_cpu() || weight.dim() != 2 || !weight.is_contiguous()) return false;
  if (x.dim() == 0 || x.size(-1) != weight.size(1) || x.numel() == 0) return false;
  if (x.numel() / weight.size(1) > kBf16GemvMaxRows) return false;
  if (bias.defined() && (bias.scalar_type() != at::kBFloat16 || !bias.device().is_cpu() || !bias.is_contiguous() ||
                         bias.numel() != weight.size(0)))
    return false;
  // The kernel records no autograd graph: leave training to torch::linear.
  const bool wants_grad =
      x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad());
  return !(at::GradMode::is_enabled() && wants_grad);
}

at::Tensor bf16_gemv(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const int64_t out = weight.size(0), in = weight.size(1);
  const at::Tensor x2 = x.reshape({-1, in});
  const int64_t rows = x2.size(0);
  const std::vector<float> xf = widen_input(x2);
  std::vector<float> acc(size_t(rows * out));
  at::Tensor y = at::empty({rows, out}, weight.options());
  const auto* w = reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>());
  const at::BFloat16* b = bias.defined() ? bias.data_ptr<at::BFloat16>() : nullptr;
  at::BFloat16* yp = y.data_ptr<at::BFloat16>();
  // Chunks of at least ~64K weight elements so threads are worth waking.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / in);
  at::parallel_for(0, out, grain, [&](int64_t begin, int64_t end) {
    dot_rows(w, xf.data(), in, rows, out, begin, end, acc.data());
    // Bias in fp32, then one round-to-nearest-even to bf16 (c10::BFloat16).
    for (int64_t m = 0; m < rows; ++m) {
      for (int64_t o = begin; o < end; ++o) {
        const float v = acc[size_t(m * out + o)] + (b ? static_cast<float>(b[o]) : 0.0f);
        yp[m * out + o] = at::BFloat16(v);
      }
    }
  });
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = out;
  return y.view(sizes);
}

}  // namespace upm
