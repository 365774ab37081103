#include "upm/model/gguf_import.h"

#include <filesystem>
#include <map>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/model/gguf_config.h"
#include "upm/model/gguf_dequantize.h"
#include "upm/model/gguf_tensor_names.h"
#include "upm/model/gguf_tokenizer.h"
#include "upm/model/safetensors_folder.h"

namespace upm {
namespace {

namespace fs = std::filesystem;
using Shape = std::vector<int64_t>;

std::string shape_text(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// HF name -> shape, for every weight a model of `c` has.
std::map<std::string, Shape> expected_shapes(const ModelConfig& c) {
  std::map<std::string, Shape> out;
  int64_t h = c.hidden_size;
  out["model.embed_tokens.weight"] = {c.vocab_size, h};
  out["model.norm.weight"] = {h};
  if (!c.tie_word_embeddings) out["lm_head.weight"] = {c.vocab_size, h};
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    std::string p = "model.layers." + std::to_string(layer) + ".";
    out[p + "input_layernorm.weight"] = {h};
    out[p + "post_attention_layernorm.weight"] = {h};
    out[p + "self_attn.q_proj.weight"] = {c.q_size(), h};
    out[p + "self_attn.k_proj.weight"] = {c.kv_size(), h};
    out[p + "self_attn.v_proj.weight"] = {c.kv_size(), h};
    out[p + "self_attn.o_proj.weight"] = {h, c.q_size()};
    if (c.attention_bias) {
      out[p + "self_attn.q_proj.bias"] = {c.q_size()};
      out[p + "self_attn.k_proj.bias"] = {c.kv_size()};
      out[p + "self_attn.v_proj.bias"] = {c.kv_size()};
    }
    if (c.qk_norm) {
      out[p + "self_attn.q_norm.weight"] = {c.head_dim};
      out[p + "self_attn.k_norm.weight"] = {c.head_dim};
    }
    out[p + "mlp.gate_proj.weight"] = {c.intermediate_size, h};
    out[p + "mlp.up_proj.weight"] = {c.intermediate_size, h};
    out[p + "mlp.down_proj.weight"] = {h, c.intermediate_size};
  }
  return out;
}

[[noreturn]] void fail(const std::string& source, const std::string& tensor, const std::string& problem) {
  throw InputError(Location{source, 0, tensor}, "GGUF: " + problem);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_json(const fs::path& path, const nlohmann::json& value) {
  write_file_atomic(path.string(), value.dump(2) + "\n");
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> gguf_weights_as_hf(const GgufFile& file, const ModelConfig& config,
                                                                      torch::ScalarType dtype) {
  const std::string& source = file.path();
  std::map<std::string, Shape> expected = expected_shapes(config);
  std::map<std::string, std::string> gguf_of;  // HF name -> GGUF name
  for (const GgufTensorInfo& tensor : file.header().tensors) {
    if (tensor.name == "rope_freqs.weight")
      fail(source, tensor.name, "per-frequency rope factors (llama3 rope scaling) are not supported");
    std::string hf = hf_tensor_name(tensor.name);
    auto it = expected.find(hf);
    if (hf.empty() || it == expected.end())
      fail(source, tensor.name, "no " + config.model_type + " weight of this configuration is called that");
    if (tensor.shape() != it->second)
      fail(source, tensor.name,
           "wrong shape: " + shape_text(tensor.shape()) + " (as " + hf + "), the metadata implies " +
               shape_text(it->second));
    if (!gguf_can_dequantize(tensor.type))
      fail(source, tensor.name,
           "unsupported ggml type " + ggml_type_name(tensor.type) + " (supported: " + gguf_dequantizable_types() + ")");
    gguf_of[hf] = tensor.name;
  }
  for (const auto& [hf, shape] : expected)
    if (!gguf_of.count(hf)) fail(source, hf, "the file has no tensor for " + hf + " " + shape_text(shape));

  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [hf, name] : gguf_of) {
    torch::Tensor weight = dequantize_gguf_tensor(file, *file.header().find_tensor(name));
    if (config.model_type == "llama") {
      if (ends_with(hf, "q_proj.weight") || ends_with(hf, "q_proj.bias"))
        weight = undo_rotary_permutation(weight, config.num_attention_heads);
      else if (ends_with(hf, "k_proj.weight") || ends_with(hf, "k_proj.bias"))
        weight = undo_rotary_permutation(weight, config.num_key_value_heads);
    }
    // Rounded one tensor at a time: peak memory is the output plus one fp32 tensor.
    out.emplace_back(hf, weight.to(dtype));
  }
  return out;
}

ModelConfig import_gguf(const std::string& gguf_path, const std::string& output_dir, const GgufImportOptions& options) {
  if (options.dtype != "fp32" && options.dtype != "bf16")
    throw InputError(Location{"", 0, "--dtype"}, "expected fp32 or bf16, got \"" + options.dtype + "\"");
  GgufFile file(gguf_path);
  ModelConfig config =
      model_config_from_gguf(file.header(), gguf_path, options.dtype == "bf16" ? "bfloat16" : "float32");
  // Tokenizer first: a vocabulary problem is found before minutes of dequantizing.
  GgufTokenizerFiles tokenizer = tokenizer_files_from_gguf(file.header(), gguf_path, config.max_position_embeddings);
  auto weights = gguf_weights_as_hf(file, config, options.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat);

  fs::create_directories(output_dir);
  fs::path dir(output_dir);
  write_safetensors_folder(output_dir, weights, options.max_shard_bytes);
  write_json(dir / "config.json", model_config_to_json(config));
  write_json(dir / "generation_config.json", tokenizer.generation_config);
  write_json(dir / "tokenizer.json", tokenizer.tokenizer);
  write_json(dir / "tokenizer_config.json", tokenizer.tokenizer_config);
  return config;
}

}  // namespace upm
