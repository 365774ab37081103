// Dequantization of every supported ggml type against gguf-py's
// gguf.quants.dequantize (tools/reference/gguf_reference.py): bit-identical
// float32 values.
#include <cstdio>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "gguf_test_util.h"
#include "upm/core/error.h"
#include "upm/model/gguf_dequantize.h"
#include "upm/model/gguf_file.h"
#include "upm/model/safetensors.h"

namespace upm::test {
namespace {

TEST(GgufDequantizeParity, EveryTypeEqualsGgufPyBitForBit) {
  GgufFile file(gguf_data("quant_types.gguf"));
  SafetensorsFile expected(gguf_data("quant_types.expected.safetensors"));
  std::set<std::string> types;
  for (const GgufTensorInfo& tensor : file.header().tensors) {
    SCOPED_TRACE(tensor.name + " (" + ggml_type_name(tensor.type) + ")");
    torch::Tensor got = dequantize_gguf_tensor(file, tensor);
    torch::Tensor want = expected.tensor(tensor.name);
    ASSERT_EQ(got.sizes(), want.sizes());
    double maxdiff = (got - want).abs().max().item<double>();
    std::printf("%-7s %-6s first %+.8f %+.8f  maxdiff %.3g\n", tensor.name.c_str(), ggml_type_name(tensor.type).c_str(),
                got.view(-1)[0].item<float>(), got.view(-1)[1].item<float>(), maxdiff);
    // Bit patterns, so that -0.0 and 0.0 differ.
    EXPECT_TRUE(torch::equal(got.view(torch::kInt), want.contiguous().view(torch::kInt)));
    types.insert(ggml_type_name(tensor.type));
  }
  for (const char* type : {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    EXPECT_TRUE(types.count(type)) << type << " is not in the reference file";
}

TEST(GgufDequantize, TypesWithoutDequantizerAreInputErrors) {
  EXPECT_FALSE(gguf_can_dequantize(GgmlType::kIQ2_XXS));
  EXPECT_TRUE(gguf_can_dequantize(GgmlType::kQ6_K));
  uint8_t block[66] = {};
  float out[256];
  try {
    dequantize_gguf_blocks(GgmlType::kIQ2_XXS, block, out, 1, "blk.0.attn_q.weight");
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.attn_q.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("IQ2_XXS"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace upm::test
