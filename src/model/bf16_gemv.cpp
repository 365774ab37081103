#include "upm/model/bf16_gemv.h"

#include <atomic>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/BFloat16.h>

#include "bf16_dot.h"
#include "cpu_kernel_util.h"
#include "upm/model/decode_fusion.h"

namespace upm {
namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> flag{!env_switched_off("UPM_BF16_GEMV")};
  return flag;
}

std::atomic<int64_t>& max_rows_value() {
  static std::atomic<int64_t> rows{[] {
    const char* v = std::getenv("UPM_BF16_GEMV_MAX_ROWS");
    return v && *v ? std::max<int64_t>(1, std::atoll(v)) : kBf16GemvDefaultMaxRows;
  }()};
  return rows;
}

std::atomic<bool>& dot_flag() {
  static std::atomic<bool> flag{!env_switched_off("UPM_BF16_DOT")};
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

inline float widen(float v) { return v; }

// y[m * out + o] = sum_k w[o, k] * x[m, k] for output rows [begin, end).
// Each weight row is read from memory once and then from L1 for the other
// input rows. Inlined into one multi-versioned function per weight type.
template <typename Weight>
__attribute__((always_inline)) inline void dot_rows_body(const Weight* w, const float* x, int64_t in, int64_t rows,
                                                         int64_t out, int64_t begin, int64_t end, float* y) {
  for (int64_t o = begin; o < end; ++o) {
    const Weight* wo = w + o * in;
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

UPM_MULTIVERSION
void dot_rows(const uint16_t* w, const float* x, int64_t in, int64_t rows, int64_t out, int64_t begin, int64_t end,
              float* y) {
  dot_rows_body(w, x, in, rows, out, begin, end, y);
}

UPM_MULTIVERSION
void dot_rows(const float* w, const float* x, int64_t in, int64_t rows, int64_t out, int64_t begin, int64_t end,
              float* y) {
  dot_rows_body(w, x, in, rows, out, begin, end, y);
}

}  // namespace

void set_bf16_gemv_enabled(bool on) { enabled_flag().store(on); }
bool bf16_gemv_enabled() { return enabled_flag().load(); }
void set_bf16_gemv_max_rows(int64_t rows) { max_rows_value().store(std::max<int64_t>(1, rows)); }
int64_t bf16_gemv_max_rows() { return max_rows_value().load(); }
void set_bf16_dot_enabled(bool on) { dot_flag().store(on); }
bool bf16_dot_enabled() { return dot_flag().load(); }
bool bf16_dot_active() { return bf16_dot_enabled() && bf16_dot_supported(); }

bool bf16_gemv_weight_applies(const at::Tensor& weight, const at::Tensor& bias) {
  if (!bf16_gemv_enabled()) return false;
  if (weight.scalar_type() != at::kBFloat16 || !weight.device().is_cpu() || weight.dim() != 2 ||
      !weight.is_contiguous())
    return false;
  if (bias.defined() && (bias.scalar_type() != at::kBFloat16 || !bias.device().is_cpu() || !bias.is_contiguous() ||
                         bias.numel() != weight.size(0)))
    return false;
  // The kernel records no autograd graph: leave training to torch::linear.
  return !(at::GradMode::is_enabled() && (weight.requires_grad() || (bias.defined() && bias.requires_grad())));
}

bool bf16_gemv_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (!bf16_gemv_weight_applies(weight, bias)) return false;
  if (x.scalar_type() != at::kBFloat16 || !x.device().is_cpu()) return false;
  if (x.dim() == 0 || x.size(-1) != weight.size(1) || x.numel() == 0) return false;
  if (x.numel() / weight.size(1) > bf16_gemv_max_rows()) return false;
  return !(at::GradMode::is_enabled() && x.requires_grad());
}

namespace {

// The output shape torch::linear gives x [..., in] -> [..., out].
std::vector<int64_t> output_sizes(const at::Tensor& x, int64_t out) {
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = out;
  return sizes;
}

const uint16_t* raw(const at::Tensor& t) { return reinterpret_cast<const uint16_t*>(t.data_ptr<at::BFloat16>()); }

// Rounded to bf16 as a torch op's output is (round-to-nearest-even).
inline float round_bf16(float v) { return static_cast<float>(at::BFloat16(v)); }

// Chunks of at least ~64K weight elements so threads are worth waking.
int64_t grain_for(int64_t in) { return std::max<int64_t>(1, (int64_t(1) << 16) / in); }

// x [..., in] (any strides, bf16) copied dense once per call, in the form
// the inner loop reads: bf16 bits for vdpbf16ps (bf16_dot.h) when it runs,
// else widened to fp32 for the portable loop. Shared by all weights.
class GemvInput {
 public:
  GemvInput(const at::Tensor& x, int64_t in) : in_(in), dot_(bf16_dot_active()) {
    const at::Tensor x2 = x.reshape({-1, in});
    rows_ = x2.size(0);
    const int64_t s0 = x2.stride(0), s1 = x2.stride(1);
    const uint16_t* p = raw(x2);
    if (dot_)
      bits_.resize(size_t(rows_ * in));
    else
      widened_.resize(size_t(rows_ * in));
    for (int64_t m = 0; m < rows_; ++m) {
      for (int64_t k = 0; k < in; ++k) {
        const uint16_t b = p[m * s0 + k * s1];
        if (dot_)
          bits_[size_t(m * in + k)] = b;
        else
          widened_[size_t(m * in + k)] = widen(b);
      }
    }
  }
  int64_t in() const { return in_; }
  int64_t rows() const { return rows_; }
  // acc[m * out + o] = x[m] . weight[o] for output rows [begin, end).
  void dot(const at::Tensor& weight, int64_t begin, int64_t end, float* acc) const {
    const int64_t out = weight.size(0);
    if (dot_)
      bf16_dot_rows(raw(weight), bits_.data(), in_, rows_, out, begin, end, acc);
    else
      dot_rows(raw(weight), widened_.data(), in_, rows_, out, begin, end, acc);
  }

 private:
  int64_t in_, rows_ = 0;
  bool dot_;
  std::vector<uint16_t> bits_;
  std::vector<float> widened_;
};

}  // namespace

std::vector<at::Tensor> bf16_gemv_multi(const at::Tensor& x, const std::vector<at::Tensor>& weights,
                                        const std::vector<at::Tensor>& biases) {
  const GemvInput xin(x, weights.at(0).size(1));
  const int64_t rows = xin.rows();
  // Output rows of all weights, numbered one after the other: weight i owns
  // [first[i], first[i + 1]).
  std::vector<int64_t> first{0};
  std::vector<std::vector<float>> acc;
  std::vector<at::Tensor> ys;
  for (const at::Tensor& w : weights) {
    first.push_back(first.back() + w.size(0));
    acc.emplace_back(size_t(rows * w.size(0)));
    ys.push_back(at::empty({rows, w.size(0)}, w.options()));
  }
  at::parallel_for(0, first.back(), grain_for(xin.in()), [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < weights.size(); ++i) {
      const int64_t lo = std::max(begin, first[i]) - first[i], hi = std::min(end, first[i + 1]) - first[i];
      if (lo >= hi) continue;
      const int64_t out = weights[i].size(0);
      xin.dot(weights[i], lo, hi, acc[i].data());
      // Bias in fp32, then one round-to-nearest-even to bf16 (c10::BFloat16).
      const at::BFloat16* b = i < biases.size() && biases[i].defined() ? biases[i].data_ptr<at::BFloat16>() : nullptr;
      at::BFloat16* yp = ys[i].data_ptr<at::BFloat16>();
      for (int64_t m = 0; m < rows; ++m) {
        for (int64_t o = lo; o < hi; ++o) {
          yp[m * out + o] = at::BFloat16(acc[i][size_t(m * out + o)] + (b ? static_cast<float>(b[o]) : 0.0f));
        }
      }
    }
  });
  for (size_t i = 0; i < weights.size(); ++i) ys[i] = ys[i].view(output_sizes(x, weights[i].size(0)));
  return ys;
}

at::Tensor bf16_gemv(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return bf16_gemv_multi(x, {weight}, {bias}).front();
}

bool fp32_gemv_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (!fused_decode_enabled()) return false;
  if (x.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat || weight.dim() != 2) return false;
  if (!x.device().is_cpu() || !weight.device().is_cpu() || !weight.is_contiguous()) return false;
  if (x.dim() == 0 || x.size(-1) != weight.size(1) || x.numel() != weight.size(1)) return false;
  if (bias.defined() && (bias.scalar_type() != at::kFloat || !bias.device().is_cpu() || !bias.is_contiguous() ||
                         bias.numel() != weight.size(0)))
    return false;
  const bool wants_grad = x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad());
  return !(at::GradMode::is_enabled() && wants_grad);
}

at::Tensor fp32_gemv(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const int64_t out = weight.size(0), in = weight.size(1);
  const at::Tensor xc = x.reshape({in}).contiguous();
  at::Tensor y = at::empty({out}, weight.options());
  const float* w = weight.data_ptr<float>();
  const float* xp = xc.data_ptr<float>();
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, out, grain_for(in), [&](int64_t begin, int64_t end) {
    dot_rows(w, xp, in, 1, out, begin, end, yp);
    // As torch::mv(weight, x) + bias: the bias added to the fp32 sum.
    if (b) {
      for (int64_t o = begin; o < end; ++o) yp[o] += b[o];
    }
  });
  return y.view(output_sizes(x, out));
}

at::Tensor bf16_gemv_add(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& residual) {
  const int64_t out = weight.size(0);
  const GemvInput xin(x, weight.size(1));
  const int64_t rows = xin.rows();
  const at::Tensor r = residual.reshape({rows, out}).contiguous();
  std::vector<float> acc(size_t(rows * out));
  at::Tensor y = at::empty({rows, out}, weight.options());
  const at::BFloat16* rp = r.data_ptr<at::BFloat16>();
  at::BFloat16* yp = y.data_ptr<at::BFloat16>();
  at::parallel_for(0, out, grain_for(xin.in()), [&](int64_t begin, int64_t end) {
    xin.dot(weight, begin, end, acc.data());
    // As `residual + linear(x)`: the product rounded to bf16, then the sum.
    for (int64_t m = 0; m < rows; ++m) {
      for (int64_t o = begin; o < end; ++o) {
        const size_t i = size_t(m * out + o);
        yp[i] = at::BFloat16(static_cast<float>(rp[i]) + round_bf16(acc[i]));
      }
    }
  });
  return y.view(output_sizes(x, out));
}

at::Tensor bf16_gemv_swiglu(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& up) {
  const int64_t out = gate.size(0);
  const GemvInput xin(x, gate.size(1));
  const int64_t rows = xin.rows();
  std::vector<float> acc_gate(size_t(rows * out)), acc_up(size_t(rows * out));
  at::Tensor y = at::empty({rows, out}, gate.options());
  at::BFloat16* yp = y.data_ptr<at::BFloat16>();
  at::parallel_for(0, out, grain_for(xin.in()), [&](int64_t begin, int64_t end) {
    xin.dot(gate, begin, end, acc_gate.data());
    xin.dot(up, begin, end, acc_up.data());
    // As silu(gate(x)) * up(x) in bf16: each op's output rounded to bf16.
    // LibTorch 2.x's bf16 silu widens to fp32, computes x / (1 + exp(-x))
    // there and rounds once, so the same here.
    for (int64_t m = 0; m < rows; ++m) {
      for (int64_t o = begin; o < end; ++o) {
        const size_t i = size_t(m * out + o);
        const float g = round_bf16(acc_gate[i]);
        const float silu = round_bf16(g / (1.0f + std::exp(-g)));
        yp[i] = at::BFloat16(silu * round_bf16(acc_up[i]));
      }
    }
  });
  return y.view(output_sizes(x, out));
}

}  // namespace upm
