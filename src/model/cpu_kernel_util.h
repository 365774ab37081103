#pragma once
// Shared by the hand-written CPU kernels (bf16_gemv.cpp, decode_fusion.cpp).

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
