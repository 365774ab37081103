// The fused bf16 kernels of forward passes over many rows (prefill_fusion.h)
// against the torch ops they replace. Rotary does the torch ops' roundings
// in their order and is compared bitwise; RMSNorm (order of the fp32 sum of
// squares) and SiLU (polynomial exp) may move a result by one bf16 ulp next
// to a rounding boundary, as the decode kernels (decode_fusion_test.cpp).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "model_test_util.h"
#include "upm/model/decode_fusion.h"
#include "upm/model/layers.h"
#include "upm/model/prefill_fusion.h"

namespace upm::test {
namespace {

struct PrefillSwitch : ScopedSwitch {
  explicit PrefillSwitch(bool on) : ScopedSwitch(set_fused_prefill_enabled, fused_prefill_enabled, on) {}
};

TEST(PrefillFusion, RmsNormOfManyRowsMatchesTheTorchPath) {
  torch::manual_seed(1);
  c10::InferenceMode guard;
  // Dimensions with and without a 16-lane tail; row counts above decode's.
  for (int64_t dim : {7, 64, 576, 770}) {
    for (int64_t rows : {kFusedNormMaxRows + 1, int64_t(300)}) {
      RMSNorm norm(dim, 1e-6, torch::TensorOptions().dtype(torch::kBFloat16));
      norm.weight.copy_(bf16_randn({dim}));
      torch::Tensor x = (bf16_randn({1, rows, dim}) * 7).to(torch::kBFloat16);
      ASSERT_TRUE(fused_rms_norm_applies(x, norm.weight));
      torch::Tensor fused = norm.forward(x), plain;
      {
        PrefillSwitch off(false);
        ASSERT_FALSE(fused_rms_norm_applies(x, norm.weight));
        plain = norm.forward(x);
      }
      expect_within_bf16_ulps(fused, plain, 2, 0.97, "dim " + std::to_string(dim) + " rows " + std::to_string(rows));
    }
  }
}

TEST(PrefillFusion, RotaryOfManyTokensIsBitwiseTheTorchRotary) {
  torch::manual_seed(5);
  c10::InferenceMode guard;
  // Head dims whose half is a multiple of 16, less than 16, and neither.
  for (int64_t D : {64, 16, 80}) {
    ModelConfig config;
    config.head_dim = D;
    config.rope_theta = 10000.0;
    RotaryEmbedding rotary(config);
    const int64_t B = 2, T = 37, H = 3;
    torch::Tensor positions = torch::arange(B * T, torch::kLong).view({B, T}) * 7;
    auto [cos, sin] = rotary.tables(positions, torch::kBFloat16);  // [B, 1, T, D]
    torch::Tensor x = bf16_randn({B, T, H, D}) * 3;
    torch::Tensor plain = RotaryEmbedding::apply(x.transpose(1, 2), cos, sin).transpose(1, 2);
    torch::Tensor fused = x.clone();
    fused_rotary_(fused, cos, sin);
    EXPECT_TRUE(torch::equal(fused, plain)) << "head dim " << D;
  }
}

TEST(PrefillFusion, SiluMulMatchesTheTorchOps) {
  torch::manual_seed(6);
  c10::InferenceMode guard;
  // 4101 values: a tail after the 16-lane blocks; gate spans SiLU's curve.
  torch::Tensor gate = (bf16_randn({3, 1367}) * 6).to(torch::kBFloat16), up = bf16_randn({3, 1367});
  ASSERT_TRUE(fused_prefill_applies({gate, up}));
  expect_within_bf16_ulps(fused_silu_mul(gate, up), torch::silu(gate) * up, 2, 0.98, "silu * up");
  // Saturated ends: x for large x, (close to) zero for very negative x.
  torch::Tensor ends = torch::tensor({-200.0f, -90.0f, -20.0f, 0.0f, 20.0f, 90.0f, 200.0f}).to(torch::kBFloat16);
  torch::Tensor ones = torch::ones({7}, torch::kBFloat16);
  EXPECT_LE(max_abs_diff(fused_silu_mul(ends, ones), torch::silu(ends)), 1e-6);
}

TEST(PrefillFusion, OnlyBf16CpuTensorsWithoutAGraphTakeIt) {
  torch::Tensor bf16 = bf16_randn({4, 8});
  {
    c10::InferenceMode guard;
    EXPECT_TRUE(fused_prefill_applies({bf16, torch::Tensor()}));
    EXPECT_FALSE(fused_prefill_applies({bf16, bf16.to(torch::kFloat)}));
  }
  torch::Tensor trained = bf16.clone().requires_grad_(true);
  EXPECT_FALSE(fused_prefill_applies({bf16, trained}));
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(fused_prefill_applies({bf16, trained}));
  }
  PrefillSwitch off(false);
  EXPECT_FALSE(fused_prefill_applies({bf16}));
}

// A bf16 prefill with the kernels against the same prefill without them, on
// random models with large weights (llama; qwen2: q/k/v biases; qwen3:
// per-head q/k norms) and a prompt longer than decode's row limit: one-ulp
// differences grow through a chaotic 2-layer net, but stay a small share of
// the logit scale, and the greedy next token of every position agrees on
// nearly all positions.
TEST(PrefillFusion, PrefillLogitsStayCloseToTheTorchPath) {
  for (const std::string family : {"llama", "qwen2", "qwen3"}) {
    ModelConfig config = load_model_config(model_dir(family));
    config.initializer_range = 0.3;
    ModelRuntime runtime;
    runtime.dtype = "bfloat16";
    CausalLM model(config, runtime, InitMode::random, 11);
    c10::InferenceMode guard;
    torch::manual_seed(3);
    ForwardInput in;
    in.input_ids = torch::randint(config.vocab_size, {2, 80}, torch::kLong);
    const torch::Tensor fused = model.forward(in).logits.to(torch::kFloat);
    torch::Tensor plain;
    {
      PrefillSwitch off(false);
      plain = model.forward(in).logits.to(torch::kFloat);
    }
    const double scale = plain.abs().max().item<double>();
    EXPECT_LE(max_abs_diff(fused, plain), 0.05 * scale) << family;
    EXPECT_GE(fused.argmax(-1).eq(plain.argmax(-1)).to(torch::kFloat).mean().item<double>(), 0.9) << family;
  }
}

}  // namespace
}  // namespace upm::test
