#pragma once
// A memory-bandwidth-bound bf16 matrix-vector product for CPU decode.
//
// LibTorch 1.13's CPU bf16 GEMM (oneDNN / ATen) is compute-limited at one
// input row: batch-1 bf16 decode ran at ~0.4 of the memory-bandwidth bound.
// bf16_gemv streams each weight row once, multiplying in bf16 with
// AVX512_BF16 where the CPU has it, else widening bf16 to fp32 (a 16-bit
// shift), and accumulating in fp32; the result is rounded to bf16 once
// (round-to-nearest-even), like torch::linear's bf16 output.
//
// Linear::forward uses it when bf16_gemv_applies(); one fp32 row uses the
// same loop for fp32 weights (fp32_gemv below); every other case (CUDA,
// autograd, many rows) keeps torch.

#include <vector>

#include <ATen/core/Tensor.h>

namespace upm {

// Switch for tests and benchmarks (before/after in one process). Starts on
// unless the environment sets UPM_BF16_GEMV=0.
void set_bf16_gemv_enabled(bool on);
bool bf16_gemv_enabled();

// The inner loop. On CPUs with AVX512_BF16 (checked at run time) the kernel
// and its fused forms below multiply bf16 x by the bf16 weights with
// vdpbf16ps (16 products into 8 fp32 sums per 256-bit instruction) instead of
// widening every weight to fp32: the same exact products, fp32 sums in
// another order, denormal inputs taken as zero (the instruction's DAZ/FTZ;
// nothing inference needs). Every other CPU, and this switch off
// (set_bf16_dot_enabled(false) or UPM_BF16_DOT=0 in the environment), runs
// the portable widening loop. bf16_dot_active(): switch on and CPU able.
void set_bf16_dot_enabled(bool on);
bool bf16_dot_enabled();
bool bf16_dot_active();

// Rows of x (numel / in) up to which Linear (and the fused decode path) use
// the kernel. Each weight row is read from memory once for all rows; the
// portable loop widens it again for every row. The default is the measured
// crossover (docs/infer.md); UPM_BF16_GEMV_MAX_ROWS in the environment or
// set_bf16_gemv_max_rows (benchmarks, tests) change it.
constexpr int64_t kBf16GemvDefaultMaxRows = 2;
void set_bf16_gemv_max_rows(int64_t rows);
int64_t bf16_gemv_max_rows();

// True when the switch is on and: x and weight [out, in] are bf16 on CPU,
// the weight (and bias) contiguous, x has at most bf16_gemv_max_rows() rows of
// `in`, and no autograd graph is wanted (grad mode off or nothing requires grad).
bool bf16_gemv_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// The weight half of bf16_gemv_applies (switch included): weight [out, in]
// and bias bf16, CPU, contiguous, and no autograd graph wanted for them.
bool bf16_gemv_weight_applies(const at::Tensor& weight, const at::Tensor& bias);

// y[..., out] = x[..., in] . weight^T (+ bias), bf16, the shape torch::linear
// returns. Preconditions as bf16_gemv_applies, minus the switch and the row
// limit (any number of rows is computed correctly); x may be non-contiguous. Parallel over output rows with
// at::parallel_for.
at::Tensor bf16_gemv(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// The fused forms of the decode fast path (decode_fusion.h). Same
// preconditions as bf16_gemv for every weight; each result is bitwise what
// bf16_gemv and the torch ops it replaces give.
//
// Several weights [out_i, in] applied to one x (q/k/v, gate/up): x widened
// once, one parallel_for over the output rows of all of them. biases may be
// shorter than weights or hold undefined tensors (no bias).
std::vector<at::Tensor> bf16_gemv_multi(const at::Tensor& x, const std::vector<at::Tensor>& weights,
                                        const std::vector<at::Tensor>& biases);
// residual + bf16_gemv(x, weight, {}) (residual: bf16, x's rows of `out`).
at::Tensor bf16_gemv_add(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& residual);
// silu(bf16_gemv(x, gate, {})) * bf16_gemv(x, up, {}), rounded to bf16 after
// each op as torch does (silu computed in fp32 and rounded once, as LibTorch
// 2.x does in bf16); std::exp where torch uses a vectorised exp, so a result
// may differ from torch::silu's by one bf16 ulp.
at::Tensor bf16_gemv_swiglu(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& up);

// The fp32 form for one row (batch-1 fp32 decode): y = x . weight^T
// (+ bias), as torch::mv(weight, x) + bias up to the order of the fp32 sum.
// OpenBLAS's sgemv reached ~12 GB/s on one thread where this loop streams
// at the bf16 kernel's rate. Linear uses it when fp32_gemv_applies: the
// fused decode switch (decode_fusion.h) on, x and weight fp32 on the CPU,
// weight (and bias) contiguous, x one row of `in`, no autograd graph wanted.
bool fp32_gemv_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);
at::Tensor fp32_gemv(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace upm
