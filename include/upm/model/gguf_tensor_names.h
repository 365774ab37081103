#pragma once
// llama.cpp's tensor names (ggml/docs/gguf.md "Standardized tensor names")
// <-> Hugging Face's, for the llama / qwen2 / qwen3 decoders, and the one
// layout change llama.cpp's converter makes on the way.

#include <cstdint>
#include <string>

#include <torch/types.h>

namespace upm {

// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight";
// empty when the name is not part of these architectures.
std::string hf_tensor_name(const std::string& gguf_name);

// llama.cpp's convert_hf_to_gguf.py (LlamaModel.permute) reorders the rows
// of a llama q_proj / k_proj weight or bias from HF's rotate-half rotary
// layout into ggml's interleaved one: per head, rows [2, D/2] become
// [D/2, 2]. This puts them back. `heads` is the attention head count for q,
// the key-value head count for k. Qwen2/Qwen3 files are not permuted.
torch::Tensor undo_rotary_permutation(const torch::Tensor& weight, int64_t heads);

}  // namespace upm
