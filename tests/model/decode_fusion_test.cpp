// The fused bf16 decode kernels against the torch path they replace.
//
// Where a kernel performs the same fp32 operations in the same order as the
// torch ops and rounds where they round (the GEMV forms, the residual add,
// rotary), the results are compared bitwise. Where the order of an fp32 sum
// (RMSNorm's mean of squares, attention's dot products and softmax sum) or
// the exp implementation (SiLU, softmax: std::exp against torch's vectorised
// one) differs, the fp32 values before the final bf16 rounding differ by a
// few fp32 ulps, which moves a result by at most one bf16 ulp (2^-7 of it)
// where it lies next to a rounding boundary; the tolerance is that ulp
// (plus the next rounding that consumes it), and nearly all elements must be
// bit-identical.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "model_test_util.h"
#include "upm/model/bf16_gemv.h"
#include "upm/model/decode_fusion.h"
#include "upm/model/layers.h"
#include "upm/model/lora.h"

namespace upm::test {
namespace {

struct FusionSwitch : ScopedSwitch {
  explicit FusionSwitch(bool on) : ScopedSwitch(set_fused_decode_enabled, fused_decode_enabled, on) {}
};

TEST(DecodeFusion, RmsNormMatchesTheTorchPath) {
  torch::manual_seed(1);
  c10::InferenceMode guard;
  for (int64_t dim : {7, 64, 768}) {
    for (int64_t rows : {1, 2, 12}) {
      RMSNorm norm(dim, 1e-6, torch::TensorOptions().dtype(torch::kBFloat16));
      norm.weight.copy_(bf16_randn({dim}));
      // Scaled rows: the normalisation matters.
      torch::Tensor x = (bf16_randn({rows, 1, dim}) * 7).to(torch::kBFloat16);
      ASSERT_TRUE(fused_rms_norm_applies(x, norm.weight));
      torch::Tensor fused = norm.forward(x);
      torch::Tensor plain;
      {
        FusionSwitch off(false);
        ASSERT_FALSE(fused_rms_norm_applies(x, norm.weight));
        plain = norm.forward(x);
      }
      // Two roundings after the differing fp32 mean: up to 2 ulps.
      expect_within_bf16_ulps(fused, plain, 2, 0.97, "dim " + std::to_string(dim) + " rows " + std::to_string(rows));
    }
  }
  // Non-contiguous rows (a head slice) equal their contiguous copy.
  torch::Tensor w = bf16_randn({16}), x = bf16_randn({3, 32}).narrow(1, 8, 16);
  EXPECT_TRUE(torch::equal(fused_rms_norm(x, w, 1e-5), fused_rms_norm(x.contiguous(), w, 1e-5)));
}

TEST(DecodeFusion, MultiGemvEqualsOneGemvPerWeight) {
  torch::manual_seed(2);
  c10::InferenceMode guard;
  const int64_t in = 130;
  std::vector<torch::Tensor> weights{bf16_randn({96, in}), bf16_randn({32, in}), bf16_randn({33, in})};
  std::vector<torch::Tensor> biases{bf16_randn({96}), torch::Tensor(), bf16_randn({33})};
  for (int64_t rows : {1, 2}) {
    torch::Tensor x = bf16_randn({rows, 1, in});
    auto ys = bf16_gemv_multi(x, weights, biases);
    ASSERT_EQ(ys.size(), weights.size());
    for (size_t i = 0; i < weights.size(); ++i) {
      EXPECT_TRUE(torch::equal(ys[i], bf16_gemv(x, weights[i], biases[i]))) << "weight " << i << " rows " << rows;
    }
  }
}

TEST(DecodeFusion, GemvAddEqualsTheResidualAddOfTheGemv) {
  torch::manual_seed(3);
  c10::InferenceMode guard;
  torch::Tensor w = bf16_randn({70, 99}), x = bf16_randn({2, 1, 99}), residual = bf16_randn({2, 1, 70});
  EXPECT_TRUE(torch::equal(bf16_gemv_add(x, w, residual), residual + bf16_gemv(x, w, {})));
}

TEST(DecodeFusion, GemvSwigluMatchesSiluTimesUp) {
  torch::manual_seed(4);
  c10::InferenceMode guard;
  torch::Tensor gate = bf16_randn({300, 64}), up = bf16_randn({300, 64});
  for (int64_t rows : {1, 2}) {
    torch::Tensor x = bf16_randn({rows, 1, 64});
    torch::Tensor plain = torch::silu(bf16_gemv(x, gate, {})) * bf16_gemv(x, up, {});
    // exp differs in the last fp32 bits: silu one ulp off, then one rounding.
    expect_within_bf16_ulps(bf16_gemv_swiglu(x, gate, up), plain, 2, 0.98, "rows " + std::to_string(rows));
  }
}

TEST(DecodeFusion, RotaryIsBitwiseTheTorchRotary) {
  torch::manual_seed(5);
  c10::InferenceMode guard;
  ModelConfig config;
  config.head_dim = 64;
  config.rope_theta = 10000.0;
  RotaryEmbedding rotary(config);
  const int64_t B = 2, H = 3;
  torch::Tensor positions = torch::tensor({5, 1234}, torch::kLong).view({B, 1});
  auto [cos, sin] = rotary.tables(positions, torch::kBFloat16);  // [B, 1, 1, D]
  torch::Tensor x = bf16_randn({B, 1, H, 64});
  torch::Tensor plain = RotaryEmbedding::apply(x.transpose(1, 2), cos, sin).transpose(1, 2);
  torch::Tensor fused = x.clone();
  fused_rotary_(fused, cos, sin);
  EXPECT_TRUE(torch::equal(fused, plain));
}

// Attention's torch path for one query per row: scaled_dot_product_attention
// with grouped heads and the additive fp32 mask, as Attention::forward runs it.
torch::Tensor torch_decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& mask, double scale) {
  const int64_t B = q.size(0), H = q.size(2), D = q.size(3), S = k.size(2);
  torch::Tensor out = at::scaled_dot_product_attention(q.transpose(1, 2), k, v, mask.view({B, 1, 1, S}), 0.0, false,
                                                       scale, /*enable_gqa=*/true);
  return out.transpose(1, 2).reshape({B, 1, H * D});
}

TEST(DecodeFusion, AttentionMatchesTheTorchPath) {
  torch::manual_seed(6);
  c10::InferenceMode guard;
  const int64_t B = 2, H = 6, KVH = 2, D = 64, S = 37;
  torch::Tensor q = bf16_randn({B, 1, H, D});
  // Keys and values as cache views: a longer buffer narrowed to S entries.
  torch::Tensor k = bf16_randn({B, KVH, 50, D}).narrow(2, 0, S), v = bf16_randn({B, KVH, 50, D}).narrow(2, 0, S);
  torch::Tensor mask = torch::zeros({B, 1, 1, S}, torch::kFloat);
  mask[0].narrow(-1, 0, 5).fill_(std::numeric_limits<float>::lowest());   // row 0: left padding
  mask[1].narrow(-1, 30, 7).fill_(std::numeric_limits<float>::lowest());  // row 1: shorter
  const double scale = 1.0 / 8.0;
  torch::Tensor fused = fused_decode_attention(q, k, v, mask, scale);
  torch::Tensor plain = torch_decode_attention(q, k, v, mask, scale);
  // Both keep scores in fp32, round exp(score - max) to bf16 for the value
  // sum and round the output once; exp and the summation order differ in the
  // last fp32 bits, which can flip a weight's bf16 rounding. An output near
  // zero (values cancelling) is held to the rows' scale, not its own.
  const torch::Tensor err = (fused.to(torch::kFloat) - plain.to(torch::kFloat)).abs();
  const double row_scale = plain.to(torch::kFloat).abs().max().item<double>();
  const torch::Tensor bound =
      plain.to(torch::kFloat).abs() * (2 * std::ldexp(1.0, -7)) + row_scale * std::ldexp(1.0, -8);
  EXPECT_TRUE((err <= bound).all().item<bool>()) << "max error " << err.max().item<double>();
  EXPECT_GE(fused.eq(plain).to(torch::kFloat).mean().item<double>(), 0.9) << "bit-identical share";
  // Masked keys get no weight: changing them changes nothing.
  torch::Tensor k2 = k.clone(), v2 = v.clone();
  k2[0].narrow(1, 0, 5).fill_(100);
  v2[0].narrow(1, 0, 5).fill_(100);
  EXPECT_TRUE(torch::equal(fused_decode_attention(q, k2, v2, mask, scale), fused));
}

std::shared_ptr<CausalLM> random_bf16_model(const std::string& family) {
  ModelConfig config = load_model_config(model_dir(family));
  config.initializer_range = 0.3;  // next-token distributions that are not flat
  ModelRuntime runtime;
  runtime.dtype = "bfloat16";
  return std::make_shared<CausalLM>(config, runtime, InitMode::random, 11);
}

// Logits of each step of a teacher-forced bf16 decode of `tokens` (prompt
// first, then one token per forward through a KV cache), in fp32.
std::vector<torch::Tensor> forced_decode_logits(CausalLM& model, const std::vector<int64_t>& tokens,
                                                size_t prompt_length) {
  KVCache cache(model.config(), 1, int64_t(tokens.size()), model.dtype(), model.device());
  ForwardInput in;
  in.input_ids = torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.begin() + long(prompt_length)), torch::kLong)
                     .view({1, -1});
  in.cache = &cache;
  in.logits_for = LogitsFor::last;
  std::vector<torch::Tensor> out;
  for (size_t next = prompt_length; next < tokens.size(); ++next) {
    out.push_back(model.forward(in).logits.reshape({-1}).to(torch::kFloat));
    in.input_ids = torch::tensor({tokens[next]}, torch::kLong).view({1, 1});
  }
  return out;
}

// The whole fast path (llama; qwen2: q/k/v biases; qwen3: per-head q/k
// norms) on a random model with large weights (a chaotic 2-layer net:
// one-ulp differences grow to ~1-3% of the logit scale). The reference is
// the same weights in fp32: along the same tokens, the fused path's bf16
// logits must be as close to it as the torch path's bf16 logits are (the
// fusion adds no error beyond bf16's own), and close to the torch path's.
// Measured: both within ~0.03-0.3 of fp32 at logit scale ~4-6, the fused
// path on average no farther.
TEST(DecodeFusion, DecodeIsAsCloseToFp32AsTheTorchPath) {
  for (const std::string family : {"llama", "qwen2", "qwen3"}) {
    auto model = random_bf16_model(family);
    ModelRuntime fp32_runtime;
    fp32_runtime.dtype = "float32";
    CausalLM reference(model->config(), fp32_runtime, InitMode::random, 11);
    c10::InferenceMode guard;
    const auto weights = model->named_parameters();
    for (auto& item : reference.named_parameters()) item.value().copy_(weights[item.key()].to(torch::kFloat));
    const std::vector<int64_t> prompt = to_vector(golden(family, "input_ids")[0]);
    std::vector<torch::Tensor> greedy_logits;
    std::vector<int64_t> tokens;
    {
      FusionSwitch off(false);
      tokens = greedy_decode(*model, prompt, 16, greedy_logits);
    }
    std::vector<torch::Tensor> fused, plain;
    {
      FusionSwitch on(true);
      fused = forced_decode_logits(*model, tokens, prompt.size());
    }
    {
      FusionSwitch off(false);
      plain = forced_decode_logits(*model, tokens, prompt.size());
    }
    const std::vector<torch::Tensor> exact = forced_decode_logits(reference, tokens, prompt.size());
    double fused_error = 0, plain_error = 0;
    for (size_t s = 0; s < exact.size(); ++s) {
      const double scale = exact[s].abs().max().item<double>();
      fused_error += max_abs_diff(fused[s], exact[s]) / scale;
      plain_error += max_abs_diff(plain[s], exact[s]) / scale;
      EXPECT_LE(max_abs_diff(fused[s], plain[s]), 0.05 * scale) << family << " step " << s;
    }
    // Step 0 follows the prefill, which has no fused decode layer (its
    // kernels, prefill_fusion.h, run with either setting): nearly the same
    // numbers.
    EXPECT_LE(max_abs_diff(fused[0], plain[0]), 0.01 * exact[0].abs().max().item<double>()) << family;
    EXPECT_LE(fused_error, 1.25 * plain_error)
        << family << ": mean relative error " << fused_error / 16 << " against " << plain_error / 16;
  }
}

// Which inputs take the fast path: one token per row, few bf16 rows, no
// autograd, no adapter, no shared prefix; everything else the torch path.
TEST(DecodeFusion, OnlyBf16InferenceDecodeStepsTakeIt) {
  auto model = random_bf16_model("qwen2");
  const auto& layer = *model->model->layers[0]->as<DecoderLayer>();
  const int64_t hidden = model->config().hidden_size;
  AttentionContext ctx;
  ctx.mask = torch::zeros({1, 1, 1, 1}, torch::kFloat);
  ctx.cos = torch::ones({1, 1, 1, model->config().head_dim}, torch::kBFloat16);
  ctx.sin = torch::zeros_like(ctx.cos);
  const torch::Tensor row = bf16_randn({1, 1, hidden});
  {
    c10::InferenceMode guard;
    EXPECT_TRUE(layer.fused_decode_applies(row, ctx));
    EXPECT_TRUE(layer.fused_decode_applies(bf16_randn({bf16_gemv_max_rows(), 1, hidden}), ctx));
    EXPECT_FALSE(layer.fused_decode_applies(bf16_randn({bf16_gemv_max_rows() + 1, 1, hidden}), ctx));
    EXPECT_FALSE(layer.fused_decode_applies(bf16_randn({1, 2, hidden}), ctx));  // prefill
    EXPECT_FALSE(layer.fused_decode_applies(row.to(torch::kFloat), ctx));
    KVCacheStep shared;
    shared.prefix_length = 3;
    AttentionContext with_prefix = ctx;
    with_prefix.step = &shared;
    EXPECT_FALSE(layer.fused_decode_applies(row, with_prefix));
    FusionSwitch off(false);
    EXPECT_FALSE(layer.fused_decode_applies(row, ctx));
  }
  // Training (parameters that want gradients) keeps the torch path.
  EXPECT_FALSE(layer.fused_decode_applies(row, ctx));
  // So does a LoRA adapter on any projection (the base weights frozen).
  LoraConfig lora_config;
  lora_config.enabled = true;
  lora_config.target_modules = {"up_proj"};
  Lora lora(*model, lora_config, 3);
  c10::InferenceMode guard;
  ASSERT_TRUE(layer.mlp->up_proj->adapter);
  EXPECT_FALSE(layer.fused_decode_applies(row, ctx));
  lora.detach();
  EXPECT_TRUE(layer.fused_decode_applies(row, ctx));
}

// The fp32 GEMV of batch-1 fp32 decode against torch::mv (+ bias) on the
// same values: the same products, summed in another order, so within the
// fp32 summation error bound in * 2^-24 * sum|w x| of either side.
TEST(DecodeFusion, Fp32GemvMatchesTorchMv) {
  torch::manual_seed(7);
  c10::InferenceMode guard;
  for (int64_t in : {1, 63, 64, 777}) {
    for (int64_t out : {1, 5, 3001}) {
      torch::Tensor w = torch::randn({out, in}), b = torch::randn({out}), x = torch::randn({1, 1, in});
      ASSERT_TRUE(fp32_gemv_applies(x, w, b));
      torch::Tensor got = fp32_gemv(x, w, b);
      torch::Tensor expected = (torch::mv(w, x.reshape({-1})) + b).view({1, 1, out});
      const torch::Tensor bound =
          torch::mv(w.abs(), x.reshape({-1}).abs()).view({1, 1, out}) * (2.0 * double(in) * std::ldexp(1.0, -24)) +
          1e-6;
      EXPECT_TRUE(((got - expected).abs() <= bound).all().item<bool>()) << "in " << in << " out " << out;
    }
  }
  // Linear routes one fp32 inference row through it; two rows, autograd or
  // the switch off keep torch.
  torch::Tensor w = torch::randn({8, 16});
  EXPECT_FALSE(fp32_gemv_applies(torch::randn({2, 16}), w, {}));
  {
    FusionSwitch off(false);
    EXPECT_FALSE(fp32_gemv_applies(torch::randn({1, 16}), w, {}));
  }
}

TEST(DecodeFusion, Fp32GemvLeavesTrainingToTorch) {
  torch::Tensor w = torch::randn({8, 16}).requires_grad_(true);
  EXPECT_FALSE(fp32_gemv_applies(torch::randn({1, 16}), w, {}));
}

}  // namespace
}  // namespace upm::test
