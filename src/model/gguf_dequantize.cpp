#include "upm/model/gguf_dequantize.h"

#include <ATen/Parallel.h>

#include <cstring>

#include "upm/core/error.h"

// The formulas keep gguf-py's order of float32 operations (a scale times a
// sub-scale first, then times the quant, then the offset) so that results are
// identical to it. A fused multiply-add would round once instead of twice;
// the build enables neither -ffast-math nor an -march with FMA, so none is
// formed.

namespace upm {
namespace {

float fp16_to_fp32(const uint8_t* p) {
  uint16_t h = static_cast<uint16_t>(p[0] | (p[1] << 8));
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // inf / nan
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise into a float32 normal.
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_fp32(const uint8_t* p) {
  uint32_t bits = static_cast<uint32_t>(p[0] | (p[1] << 8)) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Q4_0: fp16 d, 16 bytes of nibbles; low nibbles are elements 0..15, high 16..31.
void q4_0(const uint8_t* b, float* y) {
  float d = fp16_to_fp32(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>((b[2 + j] & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((b[2 + j] >> 4) - 8);
  }
}

// Q4_1: fp16 d, fp16 m, 16 bytes of nibbles; x = d * q + m.
void q4_1(const uint8_t* b, float* y) {
  float d = fp16_to_fp32(b), m = fp16_to_fp32(b + 2);
  for (int j = 0; j < 16; ++j) {
    float lo = d * static_cast<float>(b[4 + j] & 0x0F);
    float hi = d * static_cast<float>(b[4 + j] >> 4);
    y[j] = lo + m;
    y[j + 16] = hi + m;
  }
}

// Q5_0 / Q5_1: as Q4 plus a u32 of fifth bits (bit j belongs to element j).
uint32_t read_u32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }

void q5_0(const uint8_t* b, float* y) {
  float d = fp16_to_fp32(b);
  uint32_t qh = read_u32(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 32; ++j) {
    int low = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
    int q = (low | (((qh >> j) & 1) << 4)) - 16;
    y[j] = d * static_cast<float>(q);
  }
}

void q5_1(const uint8_t* b, float* y) {
  float d = fp16_to_fp32(b), m = fp16_to_fp32(b + 2);
  uint32_t qh = read_u32(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 32; ++j) {
    int low = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
    float scaled = d * static_cast<float>(low | (((qh >> j) & 1) << 4));
    y[j] = scaled + m;
  }
}

// Q8_0: fp16 d, 32 int8.
void q8_0(const uint8_t* b, float* y) {
  float d = fp16_to_fp32(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// The 12 bytes of 6-bit scales and mins shared by Q4_K and Q5_K
// (ggml's get_scale_min_k4): sub-blocks 0..3 keep their low 6 bits in bytes
// 0..7; sub-blocks 4..7 take 4 bits from bytes 8..11 and 2 from the top of 0..7.
void k_scale_min(const uint8_t* s, int j, int& scale, int& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K: fp16 d, fp16 dmin, 12 scale bytes, 128 bytes of nibbles. Sub-block
// 2g holds the low nibbles of bytes 32g..32g+31, sub-block 2g+1 their high ones.
// Q5_K: the same with 32 bytes of fifth bits before the nibbles: bit s of
// byte l belongs to element l of sub-block s.
template <bool kFifthBit>
void q45_k(const uint8_t* b, float* y) {
  float d = fp16_to_fp32(b), dmin = fp16_to_fp32(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + (kFifthBit ? 48 : 16);
  for (int s = 0; s < 8; ++s) {
    int sc, m;
    k_scale_min(scales, s, sc, m);
    float ds = d * static_cast<float>(sc), dm = dmin * static_cast<float>(m);
    const uint8_t* q = qs + 32 * (s / 2);
    int shift = (s % 2) * 4;
    for (int l = 0; l < 32; ++l) {
      int value = (q[l] >> shift) & 0x0F;
      if (kFifthBit) value |= ((qh[l] >> s) & 1) << 4;
      float scaled = ds * static_cast<float>(value);
      y[32 * s + l] = scaled - dm;
    }
  }
}

// Q6_K: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8
// scales (one per 16 elements), fp16 d. Each half of 128 elements reads
// ql[64h..64h+63] (low nibbles, then high nibbles) and qh[32h..32h+31]
// (bits 0-1, 2-3, 4-5, 6-7 for its four quarters).
void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
  float d = fp16_to_fp32(b + 208);
  for (int e = 0; e < 256; ++e) {
    int h = e / 128, r = e % 128;
    int low = r < 64 ? (ql[64 * h + r] & 0x0F) : (ql[64 * h + r - 64] >> 4);
    int high = (qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
    int q = (low | (high << 4)) - 32;
    float ds = d * static_cast<float>(scales[e / 16]);
    y[e] = ds * static_cast<float>(q);
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn block_function(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0: return q4_0;
    case GgmlType::kQ4_1: return q4_1;
    case GgmlType::kQ5_0: return q5_0;
    case GgmlType::kQ5_1: return q5_1;
    case GgmlType::kQ8_0: return q8_0;
    case GgmlType::kQ4_K: return q45_k<false>;
    case GgmlType::kQ5_K: return q45_k<true>;
    case GgmlType::kQ6_K: return q6_k;
    default: return nullptr;
  }
}

}  // namespace

bool gguf_can_dequantize(GgmlType type) {
  return type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16 || block_function(type) != nullptr;
}

std::string gguf_dequantizable_types() { return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K"; }

void dequantize_gguf_blocks(GgmlType type, const uint8_t* src, float* dst, uint64_t blocks, const std::string& tensor) {
  if (!gguf_can_dequantize(type))
    throw InputError(Location{"", 0, tensor}, "unsupported ggml type " + ggml_type_name(type) +
                                                  " (supported: " + gguf_dequantizable_types() + ")");
  GgmlTypeTraits traits = ggml_type_traits(static_cast<uint32_t>(type));
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, blocks * 4); return;
    case GgmlType::kF16:
      for (uint64_t i = 0; i < blocks; ++i) dst[i] = fp16_to_fp32(src + 2 * i);
      return;
    case GgmlType::kBF16:
      for (uint64_t i = 0; i < blocks; ++i) dst[i] = bf16_to_fp32(src + 2 * i);
      return;
    default: break;
  }
  BlockFn fn = block_function(type);
  for (uint64_t i = 0; i < blocks; ++i) fn(src + i * traits.type_size, dst + i * traits.block_size);
}

torch::Tensor dequantize_gguf_tensor(const GgufFile& file, const GgufTensorInfo& tensor) {
  if (!gguf_can_dequantize(tensor.type))
    throw InputError(Location{file.path(), 0, tensor.name}, "unsupported ggml type " + ggml_type_name(tensor.type) +
                                                                " (supported: " + gguf_dequantizable_types() + ")");
  GgmlTypeTraits traits = ggml_type_traits(static_cast<uint32_t>(tensor.type));
  torch::Tensor out = torch::empty(tensor.shape(), torch::kFloat);
  int64_t blocks = static_cast<int64_t>(tensor.element_count() / traits.block_size);
  const uint8_t* src = file.data(tensor);
  float* dst = out.data_ptr<float>();
  // Blocks are independent: split them over the intra-op threads.
  at::parallel_for(0, blocks, 4096, [&](int64_t begin, int64_t end) {
    dequantize_gguf_blocks(tensor.type, src + begin * traits.type_size, dst + begin * traits.block_size,
                           static_cast<uint64_t>(end - begin), tensor.name);
  });
  return out;
}

}  // namespace upm
