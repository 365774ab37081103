#pragma once
// Shared by the hand-written CPU kernels (bf16_gemv.cpp, decode_fusion.cpp).

#include <cstdint>
#include <cstdlib>
#include <cstring>

// UPM_MULTIVERSION: one compiled copy of a function per instruction set,
// picked at load time (GCC/Clang function multi-versioning), so the library
// stays portable: AVX-512 and AVX2 machines get vector code, others the
// plain loop (ifuncs: glibc). For the hand-written CPU kernels.
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && (!defined(__clang__) || __clang_major__ >= 14)
#define UPM_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define UPM_MULTIVERSION
#endif

namespace upm {

// True when the environment sets `name` to "0": the kernels' switches start
// on otherwise.
inline bool env_switched_off(const char* name) {
  const char* env = std::getenv(name);
  return env && std::strcmp(env, "0") == 0;
}

}  // namespace upm

namespace upm {

// bf16 <-> fp32 on the raw bits, in forms the compiler vectorises (c10's
// conversions branch on NaN per element). bf16 is the top half of an fp32.
inline float bf16_bits_to_float(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Round to nearest even, NaN kept quiet: c10::BFloat16(float) bit for bit.
inline uint16_t float_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return (u & 0x7FFFFFFFu) > 0x7F800000u ? uint16_t(0x7FC0) : uint16_t(rounded);
}

// A torch op's bf16 output read back as fp32.
inline float round_to_bf16(float f) { return bf16_bits_to_float(float_to_bf16_bits(f)); }

}  // namespace upm
