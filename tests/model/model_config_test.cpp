#include <gtest/gtest.h>

#include "test_util.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/model/model_config.h"
#include "upm/core/source_dir.h"
#include "test_paths.h"

namespace upm::test {
namespace {

nlohmann::json llama_json() {
  return nlohmann::json::parse(R"({
    "model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "max_position_embeddings": 1024,
    "hidden_act": "silu", "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                     "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
    "bos_token_id": 128000, "eos_token_id": [128001, 128009], "pretraining_tp": 1})");
}

TEST(ModelConfig, ReadsLlamaWithGqaAndLlama3RopeScaling) {
  ModelConfig c = model_config_from_json(llama_json(), "config.json");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.eos_token_id, nlohmann::json({128001, 128009}));
}

TEST(ModelConfig, FamiliesSetBiasAndQkNorm) {
  auto qwen2 = llama_json();
  qwen2["model_type"] = "qwen2";
  qwen2.erase("rope_scaling");
  EXPECT_TRUE(model_config_from_json(qwen2, "q2").attention_bias);
  auto qwen3 = qwen2;
  qwen3["model_type"] = "qwen3";
  qwen3["head_dim"] = 16;
  ModelConfig c = model_config_from_json(qwen3, "q3");
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.q_size(), 128);
}

TEST(ModelConfig, RoundTripsThroughHfJson) {
  ModelConfig c = model_config_from_json(llama_json(), "config.json");
  nlohmann::json written = model_config_to_json(c);
  EXPECT_EQ(written["architectures"][0], "LlamaForCausalLM");
  ModelConfig back = model_config_from_json(written, "written");
  EXPECT_EQ(model_config_to_json(back), written);
}

// transformers >= 5 writes rope_theta and the scaling into one
// "rope_parameters" object (tests/data/model/*/config.json are such files).
TEST(ModelConfig, ReadsTransformers5RopeParameters) {
  auto j = llama_json();
  j.erase("rope_scaling");
  j["rope_theta"] = 1.0;  // rope_parameters wins, as in transformers
  j["rope_parameters"] = {{"rope_type", "llama3"},   {"rope_theta", 250000.0},
                          {"factor", 4.0},           {"low_freq_factor", 1.0},
                          {"high_freq_factor", 2.0}, {"original_max_position_embeddings", 64}};
  ModelConfig c = model_config_from_json(j, "config.json");
  EXPECT_DOUBLE_EQ(c.rope_theta, 250000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 4.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 2.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 64);

  ModelConfig tiny = load_model_config(upm::test::test_data_dir() + "/model/qwen2");
  EXPECT_DOUBLE_EQ(tiny.rope_theta, 1000000.0);
  EXPECT_EQ(tiny.rope_scaling.type, "default");

  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1e6}, {"factor", 4.0}};
  UPM_EXPECT_THROW_WITH(model_config_from_json(j, "c.json"), InputError,
                        "rope_parameters.rope_type: unsupported rope scaling \"yarn\"");
  j["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 1e6}}}};
  UPM_EXPECT_THROW_WITH(model_config_from_json(j, "c.json"), InputError, "rope_parameters.full_attention");
  j["rope_parameters"] = "linear";
  UPM_EXPECT_THROW_WITH(model_config_from_json(j, "c.json"), InputError, "rope_parameters: expected an object");
}

TEST(ModelConfig, UnsupportedSettingsNameTheField) {
  auto with = [](const char* key, nlohmann::json value) {
    auto j = llama_json();
    j[key] = value;
    return j;
  };
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("model_type", "gpt2"), "c.json"), InputError,
                        "c.json: model_type: unsupported model type");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("hidden_act", "gelu"), "c.json"), InputError, "hidden_act");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("use_sliding_window", true), "c.json"), InputError,
                        "use_sliding_window");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("mlp_bias", true), "c.json"), InputError, "mlp_bias");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("num_key_value_heads", 3), "c.json"), InputError,
                        "num_key_value_heads: must divide");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("hidden_size", -4), "c.json"), InputError,
                        "hidden_size: must be > 0");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("vocab_size", "many"), "c.json"), InputError,
                        "vocab_size: expected an integer");
  UPM_EXPECT_THROW_WITH(model_config_from_json(with("torch_dtype", "int8"), "c.json"), InputError,
                        "torch_dtype: unsupported dtype");
  UPM_EXPECT_THROW_WITH(
      model_config_from_json(with("rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}), "c.json"), InputError,
      "rope_scaling.rope_type: unsupported rope scaling \"yarn\"");
  auto missing = llama_json();
  missing.erase("num_hidden_layers");
  UPM_EXPECT_THROW_WITH(model_config_from_json(missing, "c.json"), InputError,
                        "num_hidden_layers: required but missing");
}

// The published Qwen3-8B config (configs/models/qwen3-8b/config.json): 8.19 B
// parameters, 6.95 B of them outside the embeddings, as its model card says.
TEST(ModelConfig, Qwen3_8BParameterCountFromConfigAlone) {
  ModelConfig c = load_model_config(upm::source_dir() + "/configs/models/qwen3-8b");
  const int64_t total = parameter_count(c);
  const int64_t embeddings = 2 * c.vocab_size * c.hidden_size;
  std::printf("Qwen3-8B: %lld parameters, %lld outside the embeddings\n", (long long)total,
              (long long)(total - embeddings));
  EXPECT_EQ(total, 8190735360LL);
  EXPECT_EQ(total - embeddings, 6946075648LL);
}

}  // namespace
}  // namespace upm::test
