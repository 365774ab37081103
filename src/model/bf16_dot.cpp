// vdpbf16ps (_mm512_dpbf16_ps) multiplies 32 bf16 pairs and adds them into
// 16 fp32 lanes in one instruction. The portable loop (bf16_gemv.cpp) needs
// three per 16 weights (widen, shift, FMA) against fp32 x, and measured
// ~18.5 GB/s effective in bf16 decode where the fp32 loop (one FMA with a
// memory operand) streamed ~24.8: instruction-bound, not memory-bound.
//
// Same products as the portable loop: x is bf16 already (bf16 inference),
// and a bf16 * bf16 product is exact in fp32; the sums are fp32 in another
// order. One difference: the instruction treats denormal inputs as zero and
// flushes denormal results (DAZ/FTZ, whatever MXCSR says). Weights and
// activations below 2^-126 carry nothing a decode step needs, so inference
// ignores it; it is why tests can tell the two paths apart.
#include "bf16_dot.h"

#include <cstdlib>

// GCC 10 / Clang 11 bring the AVX512_BF16 intrinsics and the
// __builtin_cpu_supports name. Elsewhere bf16_dot_supported() is false and
// the portable loop runs.
#if defined(__x86_64__) && defined(__GNUC__) && \
    ((defined(__clang__) && __clang_major__ >= 11) || (!defined(__clang__) && __GNUC__ >= 10))
#define UPM_BF16_DOT_BUILT 1
#include <immintrin.h>
#endif

namespace upm {

#ifdef UPM_BF16_DOT_BUILT

bool bf16_dot_supported() {
  // libgcc checks the OS saves the AVX-512 state (XGETBV) before reporting it.
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512bf16");
  return supported;
}

namespace {

#define UPM_BF16_DOT_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

UPM_BF16_DOT_TARGET inline __m512bh load_bf16(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }

// The last n < 32 elements: a masked load reads nothing beyond them and
// gives zeros (whose products add nothing) in the other lanes.
UPM_BF16_DOT_TARGET inline __m512bh load_bf16_tail(const uint16_t* p, int64_t n) {
  return (__m512bh)_mm512_maskz_loadu_epi16(__mmask32((uint32_t(1) << n) - 1), p);
}

// The sum of the 16 lanes. The zero-masked forms: GCC 12's unmasked
// shuffle / extract / _mm512_reduce_add_ps start from an "undefined" vector
// that -Wmaybe-uninitialized reports inside its own header.
UPM_BF16_DOT_TARGET inline float lane_sum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xffff, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xffff, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128 s = _mm512_maskz_extractf32x4_ps(0xf, v, 0);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

UPM_BF16_DOT_TARGET float dot(const uint16_t* w, const uint16_t* x, int64_t in) {
  // Four independent accumulators (128 weights per round) so the adds do
  // not wait on each other's latency.
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 128 <= in; k += 128) {
    a0 = _mm512_dpbf16_ps(a0, load_bf16(w + k), load_bf16(x + k));
    a1 = _mm512_dpbf16_ps(a1, load_bf16(w + k + 32), load_bf16(x + k + 32));
    a2 = _mm512_dpbf16_ps(a2, load_bf16(w + k + 64), load_bf16(x + k + 64));
    a3 = _mm512_dpbf16_ps(a3, load_bf16(w + k + 96), load_bf16(x + k + 96));
  }
  for (; k + 32 <= in; k += 32) a0 = _mm512_dpbf16_ps(a0, load_bf16(w + k), load_bf16(x + k));
  if (k < in) a1 = _mm512_dpbf16_ps(a1, load_bf16_tail(w + k, in - k), load_bf16_tail(x + k, in - k));
  return lane_sum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

}  // namespace

UPM_BF16_DOT_TARGET void bf16_dot_rows(const uint16_t* w, const uint16_t* x, int64_t in, int64_t rows, int64_t out,
                                       int64_t begin, int64_t end, float* y) {
  // As the portable loop: each weight row read from memory once, from L1
  // for the other input rows.
  for (int64_t o = begin; o < end; ++o) {
    for (int64_t m = 0; m < rows; ++m) y[m * out + o] = dot(w + o * in, x + m * in, in);
  }
}

#else

bool bf16_dot_supported() { return false; }

void bf16_dot_rows(const uint16_t*, const uint16_t*, int64_t, int64_t, int64_t, int64_t, int64_t, float*) {
  std::abort();  // unreachable: bf16_dot_supported() is false in this build
}

#endif

}  // namespace upm
