#include "upm/model/gguf_tensor_names.h"

#include <regex>

#include "upm/core/error.h"

namespace upm {
namespace {

struct Rename {
  const char* gguf;
  const char* hf;
};

constexpr Rename kGlobal[] = {
    {"token_embd", "model.embed_tokens"},
    {"output_norm", "model.norm"},
    {"output", "lm_head"},
};

constexpr Rename kBlock[] = {
    {"attn_norm", "input_layernorm"},    {"ffn_norm", "post_attention_layernorm"},
    {"attn_q", "self_attn.q_proj"},      {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},      {"attn_output", "self_attn.o_proj"},
    {"attn_q_norm", "self_attn.q_norm"}, {"attn_k_norm", "self_attn.k_norm"},
    {"ffn_gate", "mlp.gate_proj"},       {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
};

}  // namespace

std::string hf_tensor_name(const std::string& gguf_name) {
  static const std::regex kPattern(R"(^(?:blk\.(\d+)\.)?([a-z_]+)\.(weight|bias)$)");
  std::smatch m;
  if (!std::regex_match(gguf_name, m, kPattern)) return "";
  const std::string base = m[2], suffix = m[3];
  if (!m[1].matched) {
    for (const Rename& r : kGlobal)
      if (base == r.gguf) return std::string(r.hf) + "." + suffix;
    return "";
  }
  for (const Rename& r : kBlock)
    if (base == r.gguf) return "model.layers." + m[1].str() + "." + r.hf + "." + suffix;
  return "";
}

torch::Tensor undo_rotary_permutation(const torch::Tensor& weight, int64_t heads) {
  int64_t rows = weight.size(0);
  if (heads <= 0 || rows % (2 * heads) != 0)
    throw InputError("rotary permutation: " + std::to_string(rows) + " rows do not split into " +
                     std::to_string(heads) + " heads of an even size");
  std::vector<int64_t> shape{heads, rows / heads / 2, 2};
  for (int64_t d = 1; d < weight.dim(); ++d) shape.push_back(weight.size(d));
  // weight rows, per head: [D/2, 2] (ggml, interleaved pairs) -> [2, D/2] (HF, two halves).
  return weight.reshape(shape).transpose(1, 2).reshape(weight.sizes()).contiguous();
}

}  // namespace upm
