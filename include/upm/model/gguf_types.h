#pragma once
// ggml's tensor types as GGUF stores them (ggml.h `enum ggml_type`): the id,
// and how many elements a block holds in how many bytes. Quantized types
// store a row as consecutive blocks; plain types have a block of one element.

#include <cstddef>
#include <cstdint>
#include <string>

namespace upm {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

struct GgmlTypeTraits {
  const char* name = nullptr;  // nullptr: not a ggml type id
  uint32_t block_size = 0;     // elements per block
  uint32_t type_size = 0;      // bytes per block
};

// Traits of a raw type id; `name == nullptr` for ids ggml does not define.
GgmlTypeTraits ggml_type_traits(uint32_t id);
std::string ggml_type_name(GgmlType type);

}  // namespace upm
