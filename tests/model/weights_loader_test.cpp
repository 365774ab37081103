#include <filesystem>

#include <gtest/gtest.h>

#include "model_test_util.h"
#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/model/safetensors_folder.h"

namespace upm::test {
namespace {

ModelConfig tiny_config(const std::string& family) { return load_model_config(model_dir(family)); }

// A model built from a config names and shapes its tensors exactly as the
// reference (HF-layout) folder does.
TEST(WeightsLoader, TensorNamesAndShapesEqualHuggingFaceLayout) {
  for (std::string family : {"llama", "qwen2", "qwen3"}) {
    CausalLM model(tiny_config(family), ModelRuntime{}, InitMode::empty);
    SafetensorsFolder folder(model_dir(family));
    auto tensors = model.hf_tensors();
    ASSERT_EQ(tensors.size(), folder.names().size()) << family;
    int64_t count = 0;
    for (const auto& [name, t] : tensors) {
      ASSERT_TRUE(folder.contains(name)) << family << " " << name;
      EXPECT_EQ(t.sizes(), c10::IntArrayRef(folder.entry(name).shape)) << name;
      count += t.numel();
    }
    EXPECT_EQ(count, parameter_count(model.config())) << family;
  }
}

TEST(WeightsLoader, SaveThenLoadIsBitIdentical) {
  for (std::string dtype : {"float32", "bfloat16"}) {
    ModelConfig config = tiny_config("qwen2");
    ModelRuntime runtime;
    runtime.dtype = dtype;
    CausalLM model(config, runtime, InitMode::random, /*seed=*/7);
    TempDir dir;
    save_pretrained(model, dir.path());
    for (const char* file : {"config.json", "generation_config.json", "model.safetensors"}) {
      EXPECT_TRUE(std::filesystem::exists(dir.file(file))) << file;
    }
    EXPECT_EQ(read_json_file(dir.file("config.json"))["torch_dtype"], dtype);
    ModelRuntime as_saved;
    as_saved.dtype = "auto";
    auto loaded = load_pretrained(dir.path(), as_saved);
    EXPECT_EQ(loaded->dtype(), model.dtype());
    auto a = model.hf_tensors(), b = loaded->hf_tensors();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      EXPECT_TRUE(a[i].second.equal(b[i].second)) << a[i].first;
    }
  }
}

TEST(WeightsLoader, ShardedSaveLoadsTheSameModel) {
  auto model = load_reference_model("llama");
  TempDir dir;
  SaveOptions options;
  options.max_shard_bytes = 20000;
  save_pretrained(*model, dir.path(), options);
  EXPECT_TRUE(std::filesystem::exists(dir.file("model.safetensors.index.json")));
  EXPECT_GT(SafetensorsFolder(dir.path()).file_count(), 2u);
  auto loaded = load_pretrained(dir.path());
  auto expected = model->hf_tensors(), got = loaded->hf_tensors();
  ASSERT_EQ(expected.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i].second.equal(expected[i].second)) << got[i].first;
}

TEST(WeightsLoader, RandomInitIsSeededAndHfLike) {
  ModelConfig config = tiny_config("qwen3");
  CausalLM a(config, ModelRuntime{}, InitMode::random, 3), b(config, ModelRuntime{}, InitMode::random, 3),
      c(config, ModelRuntime{}, InitMode::random, 4);
  auto pa = a.named_parameters(), pb = b.named_parameters(), pc = c.named_parameters();
  EXPECT_TRUE(pa["model.embed_tokens.weight"].equal(pb["model.embed_tokens.weight"]));
  EXPECT_FALSE(pa["model.embed_tokens.weight"].equal(pc["model.embed_tokens.weight"]));
  EXPECT_TRUE(pa["model.norm.weight"].equal(torch::ones({config.hidden_size})));
  EXPECT_TRUE(pa["model.layers.1.self_attn.k_norm.weight"].equal(torch::ones({config.head_dim})));
  EXPECT_NEAR(pa["model.layers.0.mlp.up_proj.weight"].std().item<double>(), config.initializer_range, 0.002);
}

// Writes the reference llama folder's tensors with one edit, then loads it.
void expect_load_error(const std::function<void(std::vector<std::pair<std::string, torch::Tensor>>&)>& edit,
                       const std::string& needle) {
  auto model = load_reference_model("llama");
  auto tensors = model->hf_tensors();
  edit(tensors);
  TempDir dir;
  write_safetensors_folder(dir.path(), tensors, kDefaultMaxShardBytes);
  std::filesystem::copy_file(model_dir("llama") + "/config.json", dir.file("config.json"));
  UPM_EXPECT_THROW_WITH(load_pretrained(dir.path()), InputError, needle);
}

TEST(WeightsLoader, StrictLoadingNamesTheTensor) {
  expect_load_error([](auto& t) { t.erase(t.begin() + 3); }, "model.layers.0.self_attn.v_proj.weight: missing");
  expect_load_error([](auto& t) { t.emplace_back("model.layers.9.mlp.up_proj.weight", torch::ones({2})); },
                    "model.layers.9.mlp.up_proj.weight: unused");
  expect_load_error(
      [](auto& t) {
        t[1].second = torch::ones({16, 31});
      },
      "model.layers.0.self_attn.q_proj.weight: wrong shape; expected [32, 32], got [16, 31]");
  expect_load_error(
      [](auto& t) {
        t[1].second = torch::ones({32, 32}, torch::kLong);
      },
      "q_proj.weight: dtype I64 is not a floating-point weight");
}

TEST(WeightsLoader, TiedCheckpointMayCarryLmHeadAndRotaryBuffers) {
  auto model = load_reference_model("qwen3");
  auto tensors = model->hf_tensors();
  tensors.emplace_back("lm_head.weight", model->named_parameters()["model.embed_tokens.weight"].clone());
  tensors.emplace_back("model.layers.0.self_attn.rotary_emb.inv_freq", torch::ones({8}));
  TempDir dir;
  write_safetensors_folder(dir.path(), tensors, kDefaultMaxShardBytes);
  std::filesystem::copy_file(model_dir("qwen3") + "/config.json", dir.file("config.json"));
  EXPECT_NO_THROW(load_pretrained(dir.path()));
}

}  // namespace
}  // namespace upm::test
