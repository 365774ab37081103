// LoRA adapters against peft (tools/reference/hf_logits.py --adapter:
// PeftModel.from_pretrained on transformers' fp32 eager model):
//   - an adapter UPM saves (Lora::save) loads in peft with UPM's logits;
//   - a model UPM merges (Lora::merge_and_detach + save_pretrained) loads in
//     transformers with the adapted logits;
//   - an adapter peft saved (tests/data/model/qwen2-peft-lora, written by
//     tools/reference/lora_reference.py) loads in UPM with peft's logits.
// Tolerance: max |logits diff| <= 1e-4 (fp32).

#include <gtest/gtest.h>

#include "hf_peer.h"
#include "model_test_util.h"
#include "test_util.h"

namespace upm::test {
namespace {

constexpr double kTolerance = 1e-4;

LoraConfig all_linear_config() {
  LoraConfig config;
  config.enabled = true;
  config.rank = 4;
  config.alpha = 12;  // scale 3: a wrong alpha / r would show
  config.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return config;
}

class LoraPeerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraPeerParity, UpmAdapterLoadsInPeftWithTheSameLogits) {
  auto model = load_reference_model(GetParam());
  const torch::Tensor ids = golden(GetParam(), "input_ids");
  const torch::Tensor base = forward_logits(*model, ids);
  Lora lora(*model, all_linear_config(), 3);
  randomise_adapters(lora, 4, 0.1);
  const torch::Tensor adapted = forward_logits(*model, ids);
  ASSERT_GT(max_abs_diff(adapted, base), 100 * kTolerance);

  TempDir dir;
  lora.save(dir.file("adapter"), model_dir(GetParam()));
  const torch::Tensor peer = hf_logits(model_dir(GetParam()), ids, dir.file("hf.safetensors"), dir.file("adapter"));
  const double diff = max_abs_diff(adapted, peer);
  std::printf("%s: UPM adapter in peft: max|logits diff| = %.3g (adapter moves logits by %.3g)\n", GetParam().c_str(),
              diff, max_abs_diff(adapted, base));
  EXPECT_LE(diff, kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Families, LoraPeerParity, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(LoraPeerParity, MergedModelLoadsInTransformersWithTheAdaptedLogits) {
  auto model = load_reference_model("qwen3");  // tied embeddings
  const torch::Tensor ids = golden("qwen3", "input_ids");
  Lora lora(*model, all_linear_config(), 5);
  randomise_adapters(lora, 6, 0.1);
  const torch::Tensor adapted = forward_logits(*model, ids);
  lora.merge_and_detach();
  TempDir dir;
  save_pretrained(*model, dir.file("merged"));
  const double diff = max_abs_diff(adapted, hf_logits(dir.file("merged"), ids, dir.file("hf.safetensors")));
  std::printf("qwen3: merged UPM adapter in transformers: max|logits diff| = %.3g\n", diff);
  EXPECT_LE(diff, kTolerance);
}

// An adapter whose saved B differs from UPM's in-memory one by a little must
// fail the comparison: peft sees the saved file.
TEST(LoraPeerParity, PerturbedSavedAdapterFailsTheComparison) {
  auto model = load_reference_model("llama");
  const torch::Tensor ids = golden("llama", "input_ids");
  Lora lora(*model, all_linear_config(), 3);
  randomise_adapters(lora, 4, 0.1);
  const torch::Tensor adapted = forward_logits(*model, ids);
  {
    torch::NoGradGuard no_grad;
    lora.parameters()[1].second[0][0].add_(0.01);  // layer 0 q_proj lora_B
  }
  TempDir dir;
  lora.save(dir.file("adapter"), model_dir("llama"));
  const double diff =
      max_abs_diff(adapted, hf_logits(model_dir("llama"), ids, dir.file("hf.safetensors"), dir.file("adapter")));
  std::printf("llama: adapter with one B entry moved by 0.01 before saving: max|logits diff| = %.3g\n", diff);
  EXPECT_GT(diff, kTolerance);
}

TEST(LoraPeerParity, PeftAdapterLoadsInUpmWithPeftLogits) {
  const std::string adapter = model_dir("qwen2-peft-lora");
  SafetensorsFile golden_file(adapter + "/golden.safetensors");
  const torch::Tensor ids = golden_file.tensor("input_ids").clone();
  const torch::Tensor expected = golden_file.tensor("logits").clone();
  const torch::Tensor expected_base = golden_file.tensor("base_logits").clone();
  auto model = load_reference_model("qwen2");
  auto lora = Lora::load(*model, adapter);
  EXPECT_EQ(lora->config().rank, 4);
  EXPECT_DOUBLE_EQ(lora->config().alpha, 8.0);
  EXPECT_EQ(lora->parameters().size(), 2u * 2u * 4u);  // 2 layers x 4 modules x (A, B)
  const torch::Tensor adapted = forward_logits(*model, ids);
  const double diff = max_abs_diff(adapted, expected);
  std::printf("qwen2: peft adapter in UPM: max|logits diff| = %.3g (adapter moves logits by %.3g)\n", diff,
              max_abs_diff(expected, expected_base));
  EXPECT_LE(diff, kTolerance);
  ASSERT_GT(max_abs_diff(expected, expected_base), 100 * kTolerance);
  lora->set_enabled(false);
  EXPECT_LE(max_abs_diff(forward_logits(*model, ids), expected_base), kTolerance);
}

}  // namespace
}  // namespace upm::test
