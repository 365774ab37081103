#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/model_test_util.h"
#include "train_test_util.h"

#include "upm/core/atomic_file.h"
#include "upm/model/lora.h"
#include "upm/model/lora_merge.h"
#include "upm/model/safetensors.h"
#include "upm/model/weights_loader.h"
#include "upm/train/optimizer.h"
#include "upm/train/sft_step.h"

namespace upm {
namespace {

using test::TempDir;

std::shared_ptr<CausalLM> tiny_llama() { return load_pretrained(test::data_path("model/llama")); }

TEST(LoraTest, AStepChangesOnlyAdapterWeights) {
  auto model = tiny_llama();
  std::map<std::string, torch::Tensor> before;
  for (auto& [name, p] : model->hf_tensors()) before[name] = p.detach().clone();
  LoraConfig config;
  config.rank = 4;
  config.target_modules = {"q_proj", "v_proj", "down_proj"};
  Lora lora(*model, config, 5);
  ASSERT_EQ(lora.parameters().size(), 2u * 2u * 3u);
  EXPECT_EQ(lora.parameters()[0].first, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  std::map<std::string, torch::Tensor> adapters_before;
  for (auto& [name, p] : lora.parameters()) adapters_before[name] = p.detach().clone();

  AdamW optimizer(lora.parameters(), {});
  SftExample ex{{1, 5, 9, 17, 33, 65, 7, 3}, {0, 0, 0, 1, 1, 1, 1, 1}};
  // Two steps: B starts at zero, so A's gradient is zero until B has moved.
  for (int step = 0; step < 2; ++step) {
    sft_train_step(*model, optimizer, {collate_sft({&ex}, model->device())}, ex.target_count(), 1e-2, 1.0, nullptr);
  }
  for (auto& [name, p] : model->hf_tensors()) EXPECT_TRUE(torch::equal(p, before[name])) << name << " changed";
  for (auto& [name, p] : lora.parameters())
    EXPECT_FALSE(torch::equal(p, adapters_before[name])) << name << " did not change";
}

TEST(LoraTest, MergedModelComputesBasePlusAdapterAndSavedAdapterReloads) {
  TempDir dir;
  auto ids = torch::tensor({{1, 7, 9, 100, 4, 12, 77}, {2, 3, 5, 8, 13, 21, 34}}, torch::kLong);
  auto model = tiny_llama();
  const torch::Tensor base_logits = test::forward_logits(*model, ids);
  LoraConfig config;
  config.rank = 3;
  config.alpha = 6;
  config.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  Lora lora(*model, config, 1);
  EXPECT_TRUE(torch::equal(test::forward_logits(*model, ids), base_logits));  // B = 0: a fresh adapter changes nothing
  test::randomise_adapters(lora, 2, 0.05);
  const torch::Tensor adapted = test::forward_logits(*model, ids);
  EXPECT_GT((adapted - base_logits).abs().max().item<double>(), 1e-3);
  lora.save(dir.file("adapter"), test::data_path("model/llama"));

  // The adapter reloaded on a fresh base gives the same outputs.
  auto reloaded_model = tiny_llama();
  auto reloaded = Lora::load(*reloaded_model, dir.file("adapter"));
  EXPECT_TRUE(torch::equal(test::forward_logits(*reloaded_model, ids), adapted));

  lora.merge_and_detach();
  const torch::Tensor merged = test::forward_logits(*model, ids);
  EXPECT_LT((merged - adapted).abs().max().item<double>(), 1e-5);
  // The merged weights save as a plain model folder that loads without adapters.
  save_pretrained(*model, dir.file("merged"));
  auto merged_model = load_pretrained(dir.file("merged"));
  EXPECT_TRUE(torch::equal(test::forward_logits(*merged_model, ids), merged));
}

// upm-train merge-lora's function: the merged folder alone computes base +
// adapter, carries the base's tokenizer files, and a failed merge leaves no
// folder behind.
TEST(LoraTest, MergeLoraFolderWritesAFolderThatComputesBasePlusAdapter) {
  TempDir dir;
  const std::string base = dir.file("base");
  std::filesystem::copy(test::data_path("model/llama"), base);
  write_file_atomic(base + "/tokenizer_config.json", "{\"bos_token\": \"<s>\"}");
  auto ids = torch::tensor({{1, 7, 9, 100, 4, 12, 77}}, torch::kLong);
  auto model = load_pretrained(base);
  LoraConfig config;
  config.rank = 2;
  config.target_modules = {"q_proj", "v_proj", "down_proj"};
  Lora lora(*model, config, 3);
  test::randomise_adapters(lora, 4, 0.05);
  const torch::Tensor adapted = test::forward_logits(*model, ids);
  lora.save(dir.file("adapter"), base);

  merge_lora_folder(base, dir.file("adapter"), dir.file("merged"), "float32");
  auto merged = load_pretrained(dir.file("merged"));
  EXPECT_LT((test::forward_logits(*merged, ids) - adapted).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(read_file(dir.file("merged/tokenizer_config.json")), read_file(base + "/tokenizer_config.json"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("merged.tmp")));

  UPM_EXPECT_THROW_WITH(merge_lora_folder(base, dir.file("no-adapter"), dir.file("other"), "float32"), InputError,
                        "no-adapter");
  EXPECT_FALSE(std::filesystem::exists(dir.file("other")));
}

TEST(LoraTest, BadAdapterFoldersAreInputErrors) {
  TempDir dir;
  auto model = tiny_llama();
  LoraConfig config;
  config.target_modules = {"qkv_proj"};
  UPM_EXPECT_THROW_WITH(Lora unused(*model, config, 0), InputError, "qkv_proj");
  config.target_modules = {"q_proj"};
  {
    auto other = tiny_llama();
    Lora(*other, config, 0).save(dir.file("a"), "");
  }
  write_file_atomic(dir.file("a/adapter_config.json"),
                    R"({"peft_type": "LORA", "r": 16, "lora_alpha": 8, "target_modules": ["q_proj"]})");
  UPM_EXPECT_THROW_WITH(Lora::load(*model, dir.file("a")), InputError, "wrong shape");
  write_file_atomic(dir.file("a/adapter_config.json"), R"({"peft_type": "PREFIX"})");
  UPM_EXPECT_THROW_WITH(Lora::load(*model, dir.file("a")), InputError, "peft_type");
  // PEFT options that would change what the adapter computes are refused by name.
  for (const auto& [option, field] :
       std::vector<std::pair<std::string, std::string>>{{R"("use_dora": true)", "use_dora"},
                                                        {R"("rank_pattern": {"q_proj": 2})", "rank_pattern"},
                                                        {R"("layers_to_transform": [0])", "layers_to_transform"},
                                                        {R"("bias": "all")", "bias"}}) {
    write_file_atomic(
        dir.file("a/adapter_config.json"),
        R"({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"], )" + option + "}");
    UPM_EXPECT_THROW_WITH(Lora::load(*model, dir.file("a")), InputError, "adapter_config.json: " + field);
  }
  write_file_atomic(dir.file("a/adapter_config.json"),
                    R"({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ".*q_proj"})");
  UPM_EXPECT_THROW_WITH(Lora::load(*model, dir.file("a")), InputError, "regular expression");
}

}  // namespace
}  // namespace upm
