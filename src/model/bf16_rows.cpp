// The portable loops below do not vectorise (GCC keeps the NaN test of the
// bf16 rounding and the exp's clamps as branches), so on AVX-512 CPUs the
// kernels run as intrinsics: 16 fp32 lanes, masked loads and stores for a
// row's tail. Both forms do the same roundings; they differ only in the
// order of RMSNorm's sum of squares.
#include "bf16_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu_kernel_util.h"

#if defined(__x86_64__) && defined(__GNUC__) && \
    ((defined(__clang__) && __clang_major__ >= 8) || (!defined(__clang__) && __GNUC__ >= 8))
#define UPM_BF16_ROWS_AVX512 1
#include <immintrin.h>
#endif

namespace upm {
namespace {

// exp(x) in fp32 within ~2 ulps (Cephes' expf: exp(r) on [-ln2/2, ln2/2] by
// a degree-6 polynomial, scaled by 2^n through the exponent bits). Inputs
// are clamped to [-87, 88] so that 2^n stays a normal float; SiLU then gives
// a tiny negative value instead of -0 below x = -88.
constexpr float kExpLow = -87.0f, kExpHigh = 88.0f, kLog2e = 1.44269504088896341f;
constexpr float kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
constexpr float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

inline float exp_poly(float x) {
  x = std::min(std::max(x, kExpLow), kExpHigh);
  const float n = std::floor(x * kLog2e + 0.5f);
  const float r = x - n * kLn2High - n * kLn2Low;
  float p = kExpPoly[0];
  for (int i = 1; i < 6; ++i) p = p * r + kExpPoly[i];
  p = p * r * r + r + 1.0f;
  const uint32_t bits = uint32_t(int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

void rms_norm_row_portable(const uint16_t* x, const uint16_t* w, int64_t dim, float eps, uint16_t* y) {
  float sum = 0.0f;
  for (int64_t i = 0; i < dim; ++i) sum += bf16_bits_to_float(x[i]) * bf16_bits_to_float(x[i]);
  const float inv = 1.0f / std::sqrt(sum / static_cast<float>(dim) + eps);
  for (int64_t i = 0; i < dim; ++i) {
    y[i] = float_to_bf16_bits(bf16_bits_to_float(w[i]) * round_to_bf16(bf16_bits_to_float(x[i]) * inv));
  }
}

void rotary_row_portable(const uint16_t* x, const uint16_t* cos, const uint16_t* sin, int64_t D, uint16_t* out) {
  const int64_t half = D / 2;
  std::vector<float> row(static_cast<size_t>(D));
  for (int64_t d = 0; d < D; ++d) row[size_t(d)] = bf16_bits_to_float(x[d]);
  for (int64_t d = 0; d < D; ++d) {
    // rotate_half(x)[d] = -x[d + half] for the first half, x[d - half] after.
    const float rotated = d < half ? -row[size_t(d + half)] : row[size_t(d - half)];
    out[d] = float_to_bf16_bits(round_to_bf16(row[size_t(d)] * bf16_bits_to_float(cos[d])) +
                                round_to_bf16(rotated * bf16_bits_to_float(sin[d])));
  }
}

void silu_mul_portable(const uint16_t* gate, const uint16_t* up, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = bf16_bits_to_float(gate[i]);
    const float silu = round_to_bf16(g / (1.0f + exp_poly(-g)));
    out[i] = float_to_bf16_bits(silu * bf16_bits_to_float(up[i]));
  }
}

#ifdef UPM_BF16_ROWS_AVX512

bool avx512_supported() {
  static const bool supported =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return supported;
}

#define UPM_ROWS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

// GCC 12's AVX-512 headers initialise their "undefined" source vectors from
// themselves (GCC bug 105593), which -Wmaybe-uninitialized reports at every
// inlined intrinsic.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

UPM_ROWS_TARGET inline __mmask16 lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// Up to 16 bf16 values widened to fp32 (zeros past n).
UPM_ROWS_TARGET inline __m512 load16(const uint16_t* p, __mmask16 m) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Round to nearest even, bf16 in the top half of each lane; NaN -> 0x7FC0
// as c10::BFloat16.
UPM_ROWS_TARGET inline __m512i round_bits(__m512 f) {
  const __m512i u = _mm512_castps_si512(f);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF)));
  r = _mm512_and_si512(r, _mm512_set1_epi32(int32_t(0xFFFF0000u)));
  return _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q), _mm512_set1_epi32(0x7FC00000));
}

UPM_ROWS_TARGET inline __m512 round16(__m512 f) { return _mm512_castsi512_ps(round_bits(f)); }

UPM_ROWS_TARGET inline void store16(uint16_t* p, __m512 f, __mmask16 m) {
  _mm256_mask_storeu_epi16(p, m, _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_bits(f), 16)));
}

// -x by its sign bit (_mm512_xor_ps needs AVX512DQ).
UPM_ROWS_TARGET inline __m512 negate16(__m512 x) {
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int32_t(0x80000000u))));
}

UPM_ROWS_TARGET inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpLow)), _mm512_set1_ps(kExpHigh));
  const __m512 n = _mm512_roundscale_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(kLog2e), _mm512_set1_ps(0.5f)),
                                        _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Low), _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2High), x));
  __m512 p = _mm512_set1_ps(kExpPoly[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpPoly[i]));
  p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

UPM_ROWS_TARGET void rms_norm_row_avx512(const uint16_t* x, const uint16_t* w, int64_t dim, float eps, uint16_t* y) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < dim; i += 16) {
    const __m512 v = load16(x + i, lanes(dim - i));
    acc = _mm512_fmadd_ps(v, v, acc);
  }
  const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(acc) / static_cast<float>(dim) + eps);
  const __m512 inv16 = _mm512_set1_ps(inv);
  for (int64_t i = 0; i < dim; i += 16) {
    const __mmask16 m = lanes(dim - i);
    store16(y + i, _mm512_mul_ps(load16(w + i, m), round16(_mm512_mul_ps(load16(x + i, m), inv16))), m);
  }
}

UPM_ROWS_TARGET void rotary_row_avx512(const uint16_t* x, const uint16_t* cos, const uint16_t* sin, int64_t D,
                                       uint16_t* out) {
  const int64_t half = D / 2;
  for (int64_t d = 0; d < half; d += 16) {
    const __mmask16 m = lanes(half - d);
    const __m512 x1 = load16(x + d, m), x2 = load16(x + d + half, m);
    const __m512 lo = _mm512_add_ps(round16(_mm512_mul_ps(x1, load16(cos + d, m))),
                                    round16(_mm512_mul_ps(negate16(x2), load16(sin + d, m))));
    const __m512 hi = _mm512_add_ps(round16(_mm512_mul_ps(x2, load16(cos + d + half, m))),
                                    round16(_mm512_mul_ps(x1, load16(sin + d + half, m))));
    store16(out + d, lo, m);
    store16(out + d + half, hi, m);
  }
}

UPM_ROWS_TARGET void silu_mul_avx512(const uint16_t* gate, const uint16_t* up, int64_t n, uint16_t* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = lanes(n - i);
    const __m512 g = load16(gate + i, m);
    const __m512 silu = round16(_mm512_div_ps(g, _mm512_add_ps(one, exp16(negate16(g)))));
    store16(out + i, _mm512_mul_ps(silu, load16(up + i, m)), m);
  }
}

#else

bool avx512_supported() { return false; }
void rms_norm_row_avx512(const uint16_t*, const uint16_t*, int64_t, float, uint16_t*) {}
void rotary_row_avx512(const uint16_t*, const uint16_t*, const uint16_t*, int64_t, uint16_t*) {}
void silu_mul_avx512(const uint16_t*, const uint16_t*, int64_t, uint16_t*) {}

#endif

}  // namespace

void bf16_rms_norm_row(const uint16_t* x, const uint16_t* weight, int64_t dim, float eps, uint16_t* y) {
  if (avx512_supported()) return rms_norm_row_avx512(x, weight, dim, eps, y);
  rms_norm_row_portable(x, weight, dim, eps, y);
}

void bf16_rotary_row(const uint16_t* x, const uint16_t* cos, const uint16_t* sin, int64_t D, uint16_t* out) {
  if (avx512_supported()) return rotary_row_avx512(x, cos, sin, D, out);
  rotary_row_portable(x, cos, sin, D, out);
}

void bf16_silu_mul(const uint16_t* gate, const uint16_t* up, int64_t n, uint16_t* out) {
  if (avx512_supported()) return silu_mul_avx512(gate, up, n, out);
  silu_mul_portable(gate, up, n, out);
}

}  // namespace upm
