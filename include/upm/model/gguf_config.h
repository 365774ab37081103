#pragma once
// A Hugging Face config (ModelConfig) from a GGUF file's metadata, under
// llama.cpp's key names ("{arch}.embedding_length", "{arch}.attention.head_count", ...).
// Architectures: llama, qwen2, qwen3.

#include <string>

#include "upm/model/gguf_file.h"
#include "upm/model/model_config.h"

namespace upm {

// Missing required keys, another architecture, partial rotary embeddings,
// rope scaling other than linear, or head counts that do not divide are
// InputErrors naming `source` and the GGUF key. `torch_dtype` is what the
// folder will store ("float32" or "bfloat16").
ModelConfig model_config_from_gguf(const GgufHeader& header, const std::string& source, const std::string& torch_dtype);

// A float32 metadata value as the shortest decimal that reads back as the
// same float32 (1e-05, not 9.999999747378752e-06): what the converter was given.
double gguf_float_value(const GgufValue& value);

}  // namespace upm
