#pragma once
// Row kernels of the fused bf16 CPU paths (decode_fusion.h, prefill_fusion.h)
// on raw bf16 bits: AVX-512 where the CPU has it, a portable loop elsewhere.
// Each rounds to bf16 where the torch ops it replaces round.

#include <cstdint>

namespace upm {

// y = weight * bf16(x * rsqrt(mean(x^2) + eps)) for one row of dim values,
// the mean of squares in fp32 (its sum in lane order, not torch's).
void bf16_rms_norm_row(const uint16_t* x, const uint16_t* weight, int64_t dim, float eps, uint16_t* y);

// out = bf16(bf16(x * cos) + bf16(rotate_half(x) * sin)) for one head row of
// D values (rotate-half convention); out may be x.
void bf16_rotary_row(const uint16_t* x, const uint16_t* cos, const uint16_t* sin, int64_t D, uint16_t* out);

// out = bf16(bf16(silu(gate)) * up) over n values, silu = g / (1 + exp(-g))
// in fp32 with a polynomial exp (within ~2 fp32 ulps of torch's).
void bf16_silu_mul(const uint16_t* gate, const uint16_t* up, int64_t n, uint16_t* out);

}  // namespace upm
