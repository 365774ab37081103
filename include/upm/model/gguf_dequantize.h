#pragma once
// GGUF tensor data -> float32. Each block format follows gguf-py's
// gguf/quants.py (itself ggml-quants.c's dequantize_row_*), and the float
// arithmetic is done in the same order in float32, so the values equal
// gguf.quants.dequantize bit for bit.

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "upm/model/gguf_file.h"

namespace upm {

// Types with a dequantizer: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
bool gguf_can_dequantize(GgmlType type);
// "F32, F16, ..." for error messages.
std::string gguf_dequantizable_types();

// Dequantizes `blocks` whole blocks of `type` from `src` into `dst`
// (blocks x block_size floats). InputError naming `tensor` for a type
// without a dequantizer.
void dequantize_gguf_blocks(GgmlType type, const uint8_t* src, float* dst, uint64_t blocks, const std::string& tensor);

// The tensor as a float32 CPU tensor of its PyTorch shape (dims reversed).
torch::Tensor dequantize_gguf_tensor(const GgufFile& file, const GgufTensorInfo& tensor);

}  // namespace upm
