// vdpbf16ps (_mm256_dpbf16_ps here) multiplies 16 bf16 pairs and adds them
// into 8 fp32 lanes in one instruction (32 into 16 in its 512-bit form).
// The portable loop (bf16_gemv.cpp) needs three per weight vector (widen,
// shift, FMA against fp32 x): with the weights in L2/L3 it runs ~21 GB/s
// on this AMD EPYC, this loop ~57-68 GB/s, so only this one keeps up with
// DRAM (~22-30 GB/s on one core here) with room to spare.
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
                                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
  return supported;
}

namespace {

#define UPM_BF16_DOT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// 256-bit forms (AVX512VL): on this AMD EPYC (Zen 4, 512-bit ops split in
// two) they streamed 3-7% faster from DRAM than the 512-bit ones in the
// same runs (isolated GEMV, 200 MB of weights, 11 alternated rounds).
UPM_BF16_DOT_TARGET inline __m256bh load_bf16(const uint16_t* p) {
  return (__m256bh)_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The last n < 16 elements: a masked load reads nothing beyond them and
// gives zeros (whose products add nothing) in the other lanes.
UPM_BF16_DOT_TARGET inline __m256bh load_bf16_tail(const uint16_t* p, int64_t n) {
  return (__m256bh)_mm256_maskz_loadu_epi16(__mmask16((1u << n) - 1), p);
}

// The sum of the 8 lanes.
UPM_BF16_DOT_TARGET inline float lane_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

UPM_BF16_DOT_TARGET float dot(const uint16_t* w, const uint16_t* x, int64_t in) {
  // Eight independent accumulators (128 weights per round) so the adds do
  // not wait on each other's latency.
  constexpr int kAcc = 8, kStep = 16;
  __m256 a[kAcc];
  for (__m256& v : a) v = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + kAcc * kStep <= in; k += kAcc * kStep) {
    for (int j = 0; j < kAcc; ++j)
      a[j] = _mm256_dpbf16_ps(a[j], load_bf16(w + k + j * kStep), load_bf16(x + k + j * kStep));
  }
  for (; k + kStep <= in; k += kStep) a[0] = _mm256_dpbf16_ps(a[0], load_bf16(w + k), load_bf16(x + k));
  if (k < in) a[1] = _mm256_dpbf16_ps(a[1], load_bf16_tail(w + k, in - k), load_bf16_tail(x + k, in - k));
  for (int width = kAcc / 2; width >= 1; width /= 2) {
    for (int j = 0; j < width; ++j) a[j] = _mm256_add_ps(a[j], a[j + width]);
  }
  return lane_sum(a[0]);
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
