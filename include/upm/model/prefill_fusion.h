#pragma once
// Fused bf16 CPU kernels for forward passes over many rows without autograd
// (prefill, scoring, batched decode).
//
// With the wheel's AMX/oneDNN bf16 GEMM the projections of a 128-token
// prefill take about two thirds of it; the rest was torch's elementwise
// chains around them, each op a parallel pass over the activations with its
// own allocation: RMSNorm (fp32 copy, pow, mean, + eps, rsqrt, two products,
// casts), rotary (cat, neg, two products, sum) and SiLU * up. Each becomes
// one vectorised pass split over the threads (docs/results.md, "Speed on
// LibTorch 2.11").
//
// Results as the torch path's (tests: prefill_fusion_test.cpp): rotary is
// bitwise equal; RMSNorm differs in the order of the fp32 sum of squares and
// SiLU in its exp (a polynomial against torch's vectorised one), either of
// which can move a bf16 result by one ulp where it lies next to a rounding
// boundary. The decode kernels (decode_fusion.h) share the RMSNorm and
// rotary kernels, so a token's norm is the same in prefill and in decode.

#include <initializer_list>

#include <ATen/core/Tensor.h>

namespace upm {

// Switch for tests and benchmarks (before/after in one process). Starts on
// unless the environment sets UPM_FUSED_PREFILL=0.
void set_fused_prefill_enabled(bool on);
bool fused_prefill_enabled();

// True when the switch is on, every defined tensor of `tensors` is bf16 on
// the CPU, and no autograd graph is wanted for any of them.
bool fused_prefill_applies(std::initializer_list<at::Tensor> tensors);

// bf16(silu(gate) rounded to bf16 * up): torch::silu(gate) * up for bf16
// tensors of one shape (any strides).
at::Tensor fused_silu_mul(const at::Tensor& gate, const at::Tensor& up);

}  // namespace upm
