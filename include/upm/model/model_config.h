#pragma once
// Architecture hyperparameters of a decoder-only LM, read from (and written
// as) a Hugging Face config.json. Families: llama, qwen2, qwen3. Runtime
// choices (device, compute dtype) live apart, in model_runtime.h, the way
// llama.cpp keeps hparams apart from cparams.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace upm {

// rope_scaling of config.json. `type` "none" when the key is null/absent.
struct RopeScaling {
  std::string type = "none";  // none | default | linear | llama3
  double factor = 1.0;        // linear, llama3
  // llama3 only: frequencies with wavelength below original/high_freq_factor
  // keep their value, above original/low_freq_factor are divided by factor,
  // in between are blended.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type = "llama";  // llama | qwen2 | qwen3
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  // < num_attention_heads: grouped-query attention
  int64_t head_dim = 128;            // hidden_size / heads unless config.json says otherwise
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 4096;
  bool tie_word_embeddings = false;
  bool attention_bias = false;          // bias on q/k/v projections (always on for qwen2)
  bool qk_norm = false;                 // RMSNorm over head_dim on q and k (qwen3)
  std::string torch_dtype = "float32";  // dtype the checkpoint was saved in
  double initializer_range = 0.02;      // std of random init
  // Kept as given (an id, a list of ids or null) so that config.json round-trips.
  nlohmann::json bos_token_id;
  nlohmann::json eos_token_id;

  int64_t q_size() const { return num_attention_heads * head_dim; }
  int64_t kv_size() const { return num_key_value_heads * head_dim; }
};

// Parses config.json content. Unsupported settings (another model_type, a
// sliding window, an activation other than silu, an unknown rope type, ...)
// are InputErrors naming `source` and the field.
ModelConfig model_config_from_json(const nlohmann::json& json, const std::string& source);
// Reads `path` (a config.json file or a model folder holding one).
ModelConfig load_model_config(const std::string& path);
// The HF config.json for `config` (architectures, model_type, every field).
nlohmann::json model_config_to_json(const ModelConfig& config);

// Number of parameters of the model `config` describes (from shapes alone).
int64_t parameter_count(const ModelConfig& config);

}  // namespace upm
