#pragma once
// The bf16 GEMV's inner loop on CPUs with AVX512_BF16 (bf16_gemv.cpp picks
// it at run time; the switch is in include/upm/model/bf16_gemv.h).

#include <cstdint>

namespace upm {

// True when this build has the kernel and the CPU (and OS) run AVX512_BF16.
bool bf16_dot_supported();

// y[m * out + o] = sum_k w[o, k] * x[m, k] for output rows [begin, end) and
// input rows m < rows, with w [out, in] and x [rows, in] dense bf16 bits.
// Only to be called when bf16_dot_supported().
void bf16_dot_rows(const uint16_t* w, const uint16_t* x, int64_t in, int64_t rows, int64_t out, int64_t begin,
                   int64_t end, float* y);

}  // namespace upm
