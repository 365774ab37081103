// The GGUF header parser on the tiny file tools/reference/gguf_reference.py
// wrote with gguf-py's GGUFWriter (metadata as gguf-py's GGUFReader reads it
// back), and on damaged copies of it: each damage is an InputError naming the
// key or tensor.
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "gguf_test_util.h"
#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/model/gguf_file.h"
#include "upm/model/gguf_tensor_names.h"
#include "upm/model/safetensors.h"

namespace upm::test {
namespace {

std::vector<uint8_t> file_bytes() {
  std::string text = read_file(gguf_data("quant_types.gguf"));
  return std::vector<uint8_t>(text.begin(), text.end());
}

GgufHeader parse(const std::vector<uint8_t>& bytes) {
  return parse_gguf_header(bytes.data(), bytes.size(), "test.gguf");
}

size_t record_of(const std::vector<uint8_t>& bytes, const std::string& name) {
  return gguf_record_after_name(std::string(bytes.begin(), bytes.end()), name);
}

nlohmann::json flat(const GgufValue& value) {
  if (value.type != GgufValueType::kArray) {
    if (value.type == GgufValueType::kString) return value.string;
    if (value.type == GgufValueType::kBool) return value.boolean;
    if (value.is_float()) return value.number;
    if (value.type == GgufValueType::kInt8 || value.type == GgufValueType::kInt16 ||
        value.type == GgufValueType::kInt32 || value.type == GgufValueType::kInt64)
      return value.integer;
    return value.unsigned_integer;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const GgufValue& item : value.items) {
    nlohmann::json inner = flat(item);
    if (inner.is_array())
      for (auto& x : inner) out.push_back(x);
    else
      out.push_back(inner);
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(GgufFile, MetadataEqualsGgufReader) {
  GgufFile file(gguf_data("quant_types.gguf"));
  auto expected = nlohmann::json::parse(read_file(gguf_data("quant_types.metadata.json")));
  ASSERT_FALSE(expected.empty());
  for (const auto& [key, want] : expected.items()) {
    const GgufValue* got = file.header().find(key);
    ASSERT_NE(got, nullptr) << key;
    EXPECT_EQ(upper(gguf_value_type_name(got->type)), want["type"].get<std::string>()) << key;
    if (!want["element_type"].is_null())
      EXPECT_EQ(upper(gguf_value_type_name(got->element_type)), want["element_type"].get<std::string>()) << key;
    EXPECT_EQ(flat(*got), want["value"]) << key;
  }
  EXPECT_EQ(file.header().version, 3u);
  EXPECT_EQ(*gguf_string(file.header(), "general.architecture", "t"), "llama");
}

TEST(GgufFile, TensorRecordsMatchTheWriter) {
  GgufFile file(gguf_data("quant_types.gguf"));
  SafetensorsFile expected(gguf_data("quant_types.expected.safetensors"));
  ASSERT_EQ(file.header().tensors.size(), expected.header().tensors.size());
  for (const GgufTensorInfo& tensor : file.header().tensors) {
    SCOPED_TRACE(tensor.name);
    EXPECT_EQ(tensor.shape(), expected.entry(tensor.name).shape);
    std::string type = tensor.name == "f32_3d" ? "F32" : upper(tensor.name);
    EXPECT_EQ(ggml_type_name(tensor.type), type);
    EXPECT_EQ(tensor.offset % file.header().alignment, 0u);
  }
}

TEST(GgufFile, EveryTruncationIsAnInputError) {
  std::vector<uint8_t> bytes = file_bytes();
  GgufHeader whole = parse(bytes);
  size_t last_data_end = 0;
  for (const auto& t : whole.tensors)
    last_data_end = std::max<size_t>(last_data_end, whole.data_start + t.offset + t.nbytes);
  // GGUFWriter pads the last tensor to the alignment too.
  ASSERT_LE(last_data_end, bytes.size());
  ASSERT_LT(bytes.size() - last_data_end, whole.alignment);
  for (size_t n = 0; n < last_data_end; n += (n < whole.data_start ? 1 : 97)) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    UPM_EXPECT_THROW_WITH(parse(cut), InputError, "truncated file");
  }
  std::vector<uint8_t> short_by_one(bytes.begin(), bytes.begin() + last_data_end - 1);
  UPM_EXPECT_THROW_WITH(parse(short_by_one), InputError, "q6_k");  // the last tensor's data is cut
}

TEST(GgufFile, DamagedRecordsNameTheTensorOrKey) {
  std::vector<uint8_t> bytes = file_bytes();
  {
    auto bad = bytes;
    std::memcpy(bad.data(), "GGUG", 4);
    UPM_EXPECT_THROW_WITH(parse(bad), InputError, "not a GGUF file");
  }
  {
    auto bad = bytes;
    bad[4] = 7;
    UPM_EXPECT_THROW_WITH(parse(bad), InputError, "version 7");
  }
  {
    auto bad = bytes;  // q4_0: n_dims 2, dims, then its type: make it 99
    size_t at = record_of(bad, "q4_0") + 4 + 16;
    uint32_t type = 99;
    std::memcpy(bad.data() + at, &type, 4);
    UPM_EXPECT_THROW_WITH(parse(bad), InputError, "q4_0: GGUF: unknown ggml type 99");
  }
  {
    auto bad = bytes;  // q8_0 rows of 48 elements: not whole blocks of 32
    size_t at = record_of(bad, "q8_0") + 4;
    uint64_t row = 48;
    std::memcpy(bad.data() + at, &row, 8);
    UPM_EXPECT_THROW_WITH(parse(bad), InputError, "q8_0: GGUF: wrong shape");
  }
  {
    auto bad = bytes;  // a dimension of zero
    size_t at = record_of(bad, "f16") + 4 + 8;
    uint64_t zero = 0;
    std::memcpy(bad.data() + at, &zero, 8);
    UPM_EXPECT_THROW_WITH(parse(bad), InputError, "f16: GGUF: wrong shape");
  }
  {
    auto bad = bytes;  // bf16's data moved onto q4_0's
    GgufHeader header = parse(bytes);
    size_t at = record_of(bad, "bf16") + 4 + 16 + 4;
    uint64_t offset = header.find_tensor("q4_0")->offset;
    std::memcpy(bad.data() + at, &offset, 8);
    UPM_EXPECT_THROW_WITH(parse(bad), InputError, "overlaps");
  }
}

TEST(GgufFile, TypedLookupsNameTheKey) {
  GgufFile file(gguf_data("quant_types.gguf"));
  const GgufHeader& h = file.header();
  EXPECT_EQ(*gguf_unsigned(h, "test.uint64", "f"), 18000000000000000000ull);
  EXPECT_FALSE(gguf_unsigned(h, "test.absent", "f"));
  UPM_EXPECT_THROW_WITH(gguf_unsigned(h, "test.int8", "f.gguf"), InputError,
                        "f.gguf: test.int8: GGUF: expected a non-negative");
  UPM_EXPECT_THROW_WITH(gguf_string(h, "test.uint8", "f.gguf"), InputError, "test.uint8: GGUF: expected a string");
  UPM_EXPECT_THROW_WITH(gguf_required_string(h, "test.absent", "f.gguf"), InputError, "test.absent: GGUF: missing key");
  EXPECT_EQ(gguf_integer_array(h, "test.int_array", "f"), (std::vector<int64_t>{1, -2, 3}));
  UPM_EXPECT_THROW_WITH(gguf_string_array(h, "test.int_array", "f"), InputError, "expected an array of strings");
}

TEST(GgufTensorNames, LlamaCppNamesMapToHuggingFace) {
  EXPECT_EQ(hf_tensor_name("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(hf_tensor_name("output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(hf_tensor_name("output.weight"), "lm_head.weight");
  EXPECT_EQ(hf_tensor_name("blk.12.attn_q.bias"), "model.layers.12.self_attn.q_proj.bias");
  EXPECT_EQ(hf_tensor_name("blk.0.attn_k_norm.weight"), "model.layers.0.self_attn.k_norm.weight");
  EXPECT_EQ(hf_tensor_name("blk.3.ffn_down.weight"), "model.layers.3.mlp.down_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.3.ffn_norm.weight"), "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(hf_tensor_name("blk.3.ffn_gate_exps.weight"), "");
  EXPECT_EQ(hf_tensor_name("rope_freqs.weight"), "");
}

// llama.cpp's convert_hf_to_gguf.py LlamaModel.permute, written as there.
torch::Tensor llama_cpp_permute(const torch::Tensor& w, int64_t heads) {
  std::vector<int64_t> shape{heads, 2, w.size(0) / heads / 2};
  for (int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

TEST(GgufTensorNames, RotaryPermutationIsUndone) {
  torch::Tensor w = torch::arange(6 * 8 * 5, torch::kFloat).reshape({6 * 8, 5});  // 6 heads of 8
  EXPECT_TRUE(torch::equal(undo_rotary_permutation(llama_cpp_permute(w, 6), 6), w));
  torch::Tensor bias = torch::arange(3 * 4, torch::kFloat);
  EXPECT_TRUE(torch::equal(undo_rotary_permutation(llama_cpp_permute(bias, 3), 3), bias));
  EXPECT_FALSE(torch::equal(llama_cpp_permute(w, 6), w));
  UPM_EXPECT_THROW_WITH(undo_rotary_permutation(w, 5), InputError, "rotary permutation");
}

}  // namespace
}  // namespace upm::test
