// A model folder UPM saves (save_pretrained: config.json, safetensors, shards
// + index) loads in Hugging Face transformers (AutoModelForCausalLM, fp32,
// eager attention; tools/reference/hf_logits.py) and gives UPM's logits.
// Tolerance: max |logits diff| <= 1e-4 (fp32; logits of size ~1-5).

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "hf_peer.h"
#include "model_test_util.h"
#include "test_util.h"

namespace upm::test {
namespace {

constexpr double kTolerance = 1e-4;

class HfPeerParity : public ::testing::TestWithParam<std::string> {};

// Every weight moved by seeded noise, so that the saved folder is UPM's own
// numbers and not a copy of the transformers-written reference files.
void move_weights(CausalLM& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, p] : model.hf_tensors()) p.add_(torch::empty(p.sizes()).normal_(0.0, 0.03, gen).to(p.dtype()));
}

TEST_P(HfPeerParity, SavedFolderLoadsInTransformersWithTheSameLogits) {
  auto model = load_reference_model(GetParam());
  move_weights(*model, 11);
  const torch::Tensor ids = golden(GetParam(), "input_ids");
  torch::Tensor logits;
  {
    c10::InferenceMode guard;
    ForwardInput in;
    in.input_ids = ids;
    logits = model->forward(in).logits;
  }
  // The moved weights change the logits well beyond the tolerance.
  ASSERT_GT(max_abs_diff(logits, golden(GetParam(), "logits")), 100 * kTolerance);

  TempDir dir;
  SaveOptions options;
  if (GetParam() == "llama") options.max_shard_bytes = 40 * 1024;  // shards + model.safetensors.index.json
  save_pretrained(*model, dir.file("saved"), options);
  if (GetParam() == "llama") ASSERT_TRUE(std::filesystem::exists(dir.file("saved/model.safetensors.index.json")));

  const torch::Tensor peer = hf_logits(dir.file("saved"), ids, dir.file("hf.safetensors"));
  ASSERT_EQ(peer.sizes(), logits.sizes());
  const double diff = max_abs_diff(logits, peer);
  std::printf("%s: UPM-saved folder in transformers: max|logits diff| = %.3g\n", GetParam().c_str(), diff);
  EXPECT_LE(diff, kTolerance);
}

// The same check on a folder whose saved weights differ from UPM's in-memory
// ones by one small change must fail: the comparison sees the saved weights.
TEST(HfPeerParity, PerturbedSavedWeightFailsTheComparison) {
  auto model = load_reference_model("qwen3");
  const torch::Tensor ids = golden("qwen3", "input_ids");
  torch::Tensor logits;
  {
    c10::InferenceMode guard;
    ForwardInput in;
    in.input_ids = ids;
    logits = model->forward(in).logits;
  }
  auto perturbed = load_reference_model("qwen3");
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : perturbed->hf_tensors()) {
      if (name == "model.layers.1.mlp.down_proj.weight") p[0][0].add_(0.01);
    }
  }
  TempDir dir;
  save_pretrained(*perturbed, dir.file("saved"));
  const double diff = max_abs_diff(logits, hf_logits(dir.file("saved"), ids, dir.file("hf.safetensors")));
  std::printf("qwen3 with one weight moved by 0.01 before saving: max|logits diff| = %.3g\n", diff);
  EXPECT_GT(diff, kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Families, HfPeerParity, ::testing::Values("llama", "qwen2", "qwen3"));

}  // namespace
}  // namespace upm::test
