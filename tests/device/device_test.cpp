// The model, training and collectives on a target device against the CPU:
// the checks tools/gpu/check.sh runs on a machine with a GPU (`ctest -L gpu`).
// The target comes from UPM_TEST_DEVICE (default "cuda"); with "cpu" the same
// code runs on the CPU against itself (check.sh --device cpu, in CI), so the
// tests cannot rot on machines without a GPU. On "cuda" without a usable GPU
// every test fails: a GPU check that skips would prove nothing.
//
// Tolerances (fp32 on both sides; cuBLAS and the CPU sum in different orders,
// TF32 stays off as LibTorch's default leaves it): logits 2e-4 absolute,
// parameters after one optimizer step 1e-5 absolute. bf16 on the target
// against fp32 on the CPU: logits within 3% of the largest |logit| + 0.02.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "upm/dist/process_group.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"
#include "upm/model/model_config.h"
#include "upm/model/weights_loader.h"
#include "upm/train/completion_logprobs.h"
#include "upm/train/grpo_update.h"
#include "upm/train/optimizer.h"
#include "upm/train/sft_step.h"
#include "test_paths.h"

namespace upm::test {
namespace {

namespace fs = std::filesystem;

std::string target_device() {
  const char* v = std::getenv("UPM_TEST_DEVICE");
  return v && *v ? v : "cuda";
}

// A random tiny model of `family` saved once per family, so both devices load
// the same weights from the same files.
std::string tiny_folder(const std::string& family) {
  const fs::path dir = fs::temp_directory_path() / ("upm-device-test-" + family + "-" + std::to_string(::getpid()));
  if (!fs::exists(dir / "config.json")) {
    ModelConfig config = load_model_config(test_data_dir() + "/model/" + family + "/config.json");
    CausalLM model(config, ModelRuntime{}, InitMode::random, 11);
    save_pretrained(model, dir.string());
  }
  return dir.string();
}

std::shared_ptr<CausalLM> load(const std::string& family, const std::string& device, const std::string& dtype,
                               const std::string& attention = "sdpa") {
  ModelRuntime runtime;
  runtime.device = device;
  runtime.dtype = dtype;
  runtime.attention = attention;
  return load_pretrained(tiny_folder(family), runtime);
}

torch::Tensor sample_ids(const CausalLM& model, int64_t rows, int64_t length, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(model.config().vocab_size, {rows, length}, torch::kLong);
}

torch::Tensor logits_of(CausalLM& model, const torch::Tensor& ids) {
  c10::InferenceMode guard;
  ForwardInput in;
  in.input_ids = ids.to(model.device());
  return model.forward(in).logits.to(torch::kCPU, torch::kFloat);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kFloat) - b.to(torch::kCPU, torch::kFloat)).abs().max().item<double>();
}

class Device : public ::testing::TestWithParam<std::string> {};

TEST_P(Device, LogitsEqualTheCpusInFp32AndStayCloseInBf16) {
  auto cpu = load(GetParam(), "cpu", "float32");
  const torch::Tensor ids = sample_ids(*cpu, 2, 24, 1);
  const torch::Tensor reference = logits_of(*cpu, ids);
  auto fp32 = load(GetParam(), target_device(), "float32");
  EXPECT_LE(max_abs_diff(logits_of(*fp32, ids), reference), 2e-4);
  auto bf16 = load(GetParam(), target_device(), "bfloat16");
  const double scale = reference.abs().max().item<double>();
  EXPECT_LE(max_abs_diff(logits_of(*bf16, ids), reference), 0.03 * scale + 0.02);
}

TEST_P(Device, CachedDecodeEqualsTheFullForward) {
  auto model = load(GetParam(), target_device(), "float32");
  const torch::Tensor ids = sample_ids(*model, 2, 12, 2);
  const torch::Tensor full = logits_of(*model, ids);
  c10::InferenceMode guard;
  KVCache cache(model->config(), 2, 12, model->dtype(), model->device());
  ForwardInput prefill;
  prefill.input_ids = ids.narrow(1, 0, 8).to(model->device());
  prefill.cache = &cache;
  prefill.logits_for = LogitsFor::last;
  model->forward(prefill);
  for (int64_t t = 8; t < 12; ++t) {
    ForwardInput step;
    step.input_ids = ids.narrow(1, t, 1).to(model->device());
    step.cache = &cache;
    step.logits_for = LogitsFor::last;
    const torch::Tensor got = model->forward(step).logits.to(torch::kCPU, torch::kFloat);
    EXPECT_LE(max_abs_diff(got.select(1, 0), full.select(1, t)), 2e-4) << "position " << t;
  }
}

TEST_P(Device, SdpaEqualsExplicitAttentionInBf16) {
  auto sdpa = load(GetParam(), target_device(), "bfloat16", "sdpa");
  auto eager = load(GetParam(), target_device(), "bfloat16", "eager");
  const torch::Tensor ids = sample_ids(*sdpa, 2, 64, 3);
  const torch::Tensor a = logits_of(*sdpa, ids);
  EXPECT_LE(max_abs_diff(a, logits_of(*eager, ids)), 0.03 * a.abs().max().item<double>() + 0.02);
}

// One SFT step (loss, clipping, AdamW) from the same weights and batch.
std::vector<std::pair<std::string, torch::Tensor>> after_sft_step(const std::string& family, const std::string& device,
                                                                  double* loss) {
  auto model = load(family, device, "float32");
  std::vector<SftExample> examples(2);
  const torch::Tensor ids = sample_ids(*model, 2, 20, 4);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 20 - 4 * b; ++t) {
      examples[b].ids.push_back(ids[b][t].item<int64_t>());
      examples[b].target.push_back(t >= 8 ? 1 : 0);  // an 8-token prompt, the rest trained
    }
  }
  const SftBatch batch = collate_sft({&examples[0], &examples[1]}, model->device());
  AdamW optimizer(model->hf_tensors(), AdamWConfig{});
  *loss = sft_train_step(*model, optimizer, {batch}, batch.target_tokens, 1e-3, 1.0, nullptr).loss;
  return model->hf_tensors();
}

TEST_P(Device, OneSftStepEqualsTheCpus) {
  double cpu_loss = 0, target_loss = 0;
  const auto cpu = after_sft_step(GetParam(), "cpu", &cpu_loss);
  const auto target = after_sft_step(GetParam(), target_device(), &target_loss);
  EXPECT_NEAR(target_loss, cpu_loss, 1e-5 * std::max(1.0, std::abs(cpu_loss)));
  ASSERT_EQ(cpu.size(), target.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_LE(max_abs_diff(cpu[i].second, target[i].second), 1e-5) << cpu[i].first;
}

// One GRPO update (recomputed log-probs, clipped surrogate, KL, AdamW) on two
// completions of one prompt with opposite advantages.
std::vector<std::pair<std::string, torch::Tensor>> after_grpo_update(const std::string& family,
                                                                     const std::string& device, double* loss) {
  auto model = load(family, device, "float32");
  const std::vector<int64_t> prompt = {5, 9, 14, 3, 27, 8};
  const std::vector<std::vector<int64_t>> completions = {{40, 41, 42, 43}, {50, 51, 52}};
  GrpoUpdateInput input;
  for (const auto& c : completions) input.rows.push_back({&prompt, &c});
  input.old_logprobs = frozen_logprobs(*model, input.rows, 2);
  input.ref_logprobs = input.old_logprobs.clone();
  input.advantages = torch::tensor({1.0f, -1.0f}, torch::TensorOptions().device(model->device()));
  GrpoUpdateOptions options;
  options.lr = 1e-3;
  AdamW optimizer(model->hf_tensors(), AdamWConfig{});
  *loss = grpo_update(*model, optimizer, input, options, nullptr).loss;
  return model->hf_tensors();
}

TEST_P(Device, OneGrpoUpdateEqualsTheCpus) {
  double cpu_loss = 0, target_loss = 0;
  const auto cpu = after_grpo_update(GetParam(), "cpu", &cpu_loss);
  const auto target = after_grpo_update(GetParam(), target_device(), &target_loss);
  EXPECT_NEAR(target_loss, cpu_loss, 1e-5);
  ASSERT_EQ(cpu.size(), target.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_LE(max_abs_diff(cpu[i].second, target[i].second), 1e-5) << cpu[i].first;
}

INSTANTIATE_TEST_SUITE_P(Families, Device, ::testing::Values("llama", "qwen3"));

// A one-rank group on the target: NCCL on CUDA, Gloo on the CPU.
TEST(DeviceGroup, OneRankGroupUsesTheDevicesBackendAndSums) {
  RankEnv env;
  env.master_port = 29600 + int(::getpid() % 1000);
  const c10::Device device(target_device());
  Distributed group(env, device);
  EXPECT_EQ(group.backend(), device.is_cuda() ? "nccl" : "gloo");
  std::vector<torch::Tensor> tensors = {torch::arange(6, torch::TensorOptions().dtype(torch::kFloat).device(device))};
  group.all_reduce_sum(tensors);
  EXPECT_TRUE(torch::equal(tensors[0].cpu(), torch::arange(6, torch::kFloat)));
}

}  // namespace
}  // namespace upm::test
