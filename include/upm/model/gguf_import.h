#pragma once
// GGUF file -> Hugging Face model folder: config.json, model.safetensors
// (or shards + index), tokenizer.json, tokenizer_config.json (with the chat
// template) and generation_config.json. Weights are dequantized to float32
// exactly as gguf-py does, the rotary permutation llama.cpp applies to llama
// q/k rows is undone, and the result is stored in float32 or rounded to
// bfloat16.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/model/gguf_file.h"
#include "upm/model/model_config.h"

namespace upm {

struct GgufImportOptions {
  std::string dtype = "fp32";  // fp32 | bf16: what model.safetensors stores
  uint64_t max_shard_bytes = 5'000'000'000ull;
};

// Every weight of the file under its HF name, as CPU tensors of `dtype`
// (each dequantized to float32, then rounded), checked against the shapes
// `config` implies: a tensor with no HF name, a wrong shape, a type without a
// dequantizer or a missing weight is an InputError naming the GGUF tensor
// (and the HF name), found before any tensor is dequantized.
std::vector<std::pair<std::string, torch::Tensor>> gguf_weights_as_hf(const GgufFile& file, const ModelConfig& config,
                                                                      torch::ScalarType dtype = torch::kFloat);

// Writes the folder (created if needed; existing files are replaced).
// Returns the config written.
ModelConfig import_gguf(const std::string& gguf_path, const std::string& output_dir,
                        const GgufImportOptions& options = {});

}  // namespace upm
