#pragma once
// Fused kernels of the bf16 CPU decode fast path.
//
// At one token per row a decoder layer's torch path is ~150 small ops
// (RMSNorm's fp32 round trip, rotary, the attention products over the cache,
// softmax, residual adds), each a few microseconds of dispatch and
// allocation: ~35% of bf16 batch-1 decode beside the weight read. With few
// bf16 rows on the CPU and no autograd, DecoderLayer::forward instead runs
// q/k/v and gate/up as one multi-output GEMV each (bf16_gemv.h), SiLU * up
// and the residual adds in the GEMV epilogues, and the kernels below.
//
// Every kernel rounds to bf16 where the torch op it replaces returns bf16,
// so results equal the torch path's up to the order of fp32 sums and
// std::exp against torch's vectorised exp (tests: decode_fusion_test.cpp).
// Everything else (CUDA, fp32, training, LoRA, many rows, a shared prefix)
// keeps the torch path.

#include <ATen/core/Tensor.h>

namespace upm {

// Switch for tests and benchmarks (before/after in one process). Starts on
// unless the environment sets UPM_FUSED_DECODE=0. The bf16 fast path also
// needs the bf16 GEMV (UPM_BF16_GEMV) on. The same switch governs the fp32
// one-row GEMV of fp32 decode (fp32_gemv in bf16_gemv.h).
void set_fused_decode_enabled(bool on);
bool fused_decode_enabled();

// Rows (numel / last dim) up to which the fused RMSNorm counts as decode's
// (this switch); above, the prefill switch (prefill_fusion.h) governs it.
constexpr int64_t kFusedNormMaxRows = 64;

// True when the governing switch is on, x and weight are bf16 on the CPU,
// weight is contiguous [x.size(-1)], and no autograd graph is wanted.
bool fused_rms_norm_applies(const at::Tensor& x, const at::Tensor& weight);

// weight * to_bf16(x_f32 * rsqrt(mean(x_f32^2) + eps)), rounded as HF's
// LlamaRMSNorm in bf16: the normalised row is rounded to bf16 before the
// (bf16) multiplication by the weight. x may be non-contiguous. Rows are
// split over the threads.
at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// x [B, T, H, D] (contiguous) rotated in place by cos/sin [B, 1, T, D]
// (any strides) in the rotate-half convention, as RotaryEmbedding::apply:
// x * cos + rotate_half(x) * sin with each product and the sum rounded to
// bf16 (bitwise equal to it). Decode has T = 1.
void fused_rotary_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// One query token per row against its keys and values (grouped-query:
// query head h reads kv head h / (H / KVH)), as Attention's torch path:
// scores = bf16(q.k), scaled and rounded to bf16, + mask in fp32, softmax in
// fp32, probabilities rounded to bf16, out = bf16(sum p v).
// q [B, 1, H, D] contiguous; keys, values [B, KVH, S, D] (any strides,
// e.g. cache views); mask fp32 [B, 1, 1, S] (any strides). -> [B, 1, H*D].
at::Tensor fused_decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                  const at::Tensor& mask, double scale);

}  // namespace upm
