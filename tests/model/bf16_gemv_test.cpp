// The bf16 GEMV of batch-1 CPU decode against an independent reference:
// torch's fp32 matmul of the bf16 values upcast. The kernel rounds one fp32
// sum to bf16 (round-to-nearest-even), so it may differ from the fp32
// reference by half a bf16 ulp (<= 2^-8 |ref|) plus the fp32 summation error
// of either side (<= in * 2^-24 * sum|w x| each).
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "model_test_util.h"
#include "upm/model/bf16_gemv.h"
#include "upm/model/decode_fusion.h"
#include "upm/model/kv_cache.h"

namespace upm::test {
namespace {

struct GemvSwitch : ScopedSwitch {
  explicit GemvSwitch(bool on) : ScopedSwitch(set_bf16_gemv_enabled, bf16_gemv_enabled, on) {}
};

struct DotSwitch : ScopedSwitch {
  explicit DotSwitch(bool on) : ScopedSwitch(set_bf16_dot_enabled, bf16_dot_enabled, on) {}
};

// Checks got (bf16) against the fp32 reference x W^T + b within the bound
// above, and that nearly all elements are exactly the reference rounded.
void expect_matches_reference(const torch::Tensor& got, const torch::Tensor& x, const torch::Tensor& w,
                              const torch::Tensor& b, const std::string& what) {
  const int64_t in = w.size(1);
  torch::Tensor xf = x.to(torch::kFloat), wf = w.to(torch::kFloat);
  const torch::Tensor ref = torch::linear(xf, wf, b.defined() ? b.to(torch::kFloat) : torch::Tensor());
  const torch::Tensor magnitude = torch::matmul(xf.abs(), wf.abs().t());
  const torch::Tensor bound = ref.abs() * std::ldexp(1.0, -8) + magnitude * (2.0 * double(in) * std::ldexp(1.0, -24));
  ASSERT_EQ(got.sizes(), ref.sizes()) << what;
  ASSERT_EQ(got.scalar_type(), torch::kBFloat16) << what;
  const torch::Tensor err = (got.to(torch::kFloat) - ref).abs();
  EXPECT_TRUE((err <= bound).all().item<bool>())
      << what << ": max error " << err.max().item<double>() << " where the bound is "
      << bound.flatten()[err.flatten().argmax()].item<double>();
  const double exact = got.eq(ref.to(torch::kBFloat16)).to(torch::kFloat).mean().item<double>();
  EXPECT_GE(exact, 0.98) << what << ": share equal to the rounded reference";
}

// Odd sizes: `in` not a multiple of the kernel's 64 lanes (nor of 16/32), one
// output row, a few, and more than a thread chunk; 1, 2 and 3 input rows.
TEST(Bf16Gemv, MatchesFp32MatmulOfTheUpcastWeights) {
  torch::manual_seed(3);
  c10::InferenceMode guard;
  for (int64_t in : {1, 7, 33, 100, 777}) {
    for (int64_t out : {1, 3, 257}) {
      for (bool with_bias : {false, true}) {
        for (int64_t rows : {1, 2, 3}) {
          torch::Tensor w = bf16_randn({out, in}), x = bf16_randn({rows, 1, in});
          torch::Tensor b = with_bias ? bf16_randn({out}) : torch::Tensor();
          const std::string what = "in " + std::to_string(in) + " out " + std::to_string(out) + " rows " +
                                   std::to_string(rows) + (with_bias ? " bias" : "");
          // Linear routes only a few rows here; the kernel is right for any.
          EXPECT_EQ(bf16_gemv_applies(x, w, b), rows <= bf16_gemv_max_rows()) << what;
          expect_matches_reference(bf16_gemv(x, w, b), x, w, b, what);
        }
      }
    }
  }
}

// Both inner loops (bf16_gemv.h: vdpbf16ps where the CPU has AVX512_BF16,
// else the portable widening loop), through all three entry points: the
// GEMV against the fp32 reference at odd sizes (`in` not a multiple of 32,
// `out` of the thread grain), the fused forms against their unfused
// compositions on the same path. A weight row of bf16 denormals tells the
// paths apart: the portable loop sums them (37 * 2^-130 is a normal float),
// vdpbf16ps takes them as zero (DAZ), so a switch that picked the wrong
// loop fails here.
void expect_inner_loop_is_right(bool dot) {
  torch::manual_seed(dot ? 8 : 7);
  c10::InferenceMode guard;
  for (int64_t in : {1, 31, 33, 130, 777}) {
    for (int64_t out : {1, 3, 257}) {
      for (int64_t rows : {1, 2}) {
        torch::Tensor w = bf16_randn({out, in}), x = bf16_randn({rows, 1, in}), b = bf16_randn({out});
        const std::string what = std::string(dot ? "vdpbf16ps" : "portable") + " in " + std::to_string(in) + " out " +
                                 std::to_string(out) + " rows " + std::to_string(rows);
        expect_matches_reference(bf16_gemv(x, w, {}), x, w, {}, what);
        expect_matches_reference(bf16_gemv(x, w, b), x, w, b, what + " bias");
        const torch::Tensor residual = bf16_randn({rows, 1, out});
        EXPECT_TRUE(torch::equal(bf16_gemv_add(x, w, residual), residual + bf16_gemv(x, w, {}))) << what;
        const torch::Tensor up = bf16_randn({out, in});
        expect_within_bf16_ulps(bf16_gemv_swiglu(x, w, up), torch::silu(bf16_gemv(x, w, {})) * bf16_gemv(x, up, {}), 2,
                                out >= 257 ? 0.9 : 0.0, what + " swiglu");
      }
    }
  }
  const torch::Tensor denormals = torch::full({2, 37}, std::ldexp(1.0, -130), torch::kFloat).to(torch::kBFloat16);
  ASSERT_NE(denormals[0][0].item<float>(), 0.0f);
  const float sum = bf16_gemv(torch::ones({1, 37}, torch::kBFloat16), denormals, {})[0][0].item<float>();
  EXPECT_EQ(sum, dot ? 0.0f : float(37 * std::ldexp(1.0, -130)));
}

TEST(Bf16Gemv, PortableLoopMatchesFp32Linear) {
  DotSwitch off(false);
  ASSERT_FALSE(bf16_dot_active());
  expect_inner_loop_is_right(false);
}

TEST(Bf16Gemv, Avx512Bf16LoopMatchesFp32Linear) {
  DotSwitch on(true);
  if (!bf16_dot_active()) GTEST_SKIP() << "this CPU lacks AVX512_BF16 (vdpbf16ps): only the portable loop runs here";
  expect_inner_loop_is_right(true);
}

TEST(Bf16Gemv, NonContiguousInputEqualsItsContiguousCopy) {
  torch::manual_seed(4);
  c10::InferenceMode guard;
  const int64_t in = 99, out = 70;
  torch::Tensor w = bf16_randn({out, in}), b = bf16_randn({out});
  // Every other element of a wider row, and a column of a transposed matrix.
  torch::Tensor strided = bf16_randn({1, 1, 2 * in}).slice(2, 0, 2 * in, 2);
  torch::Tensor column = bf16_randn({in, 5}).t().narrow(0, 2, 1);
  for (const torch::Tensor& x : {strided, column}) {
    ASSERT_FALSE(x.is_contiguous());
    torch::Tensor got = bf16_gemv(x, w, b);
    EXPECT_TRUE(torch::equal(got, bf16_gemv(x.contiguous(), w, b)));
    expect_matches_reference(got, x, w, b, "non-contiguous");
  }
}

// at::parallel_for splits the output rows over torch's threads; each row is
// still one thread's sum in one order, so the result is the same bits.
TEST(Bf16Gemv, ThreadsSplitTheOutputRowsWithoutChangingThem) {
  torch::manual_seed(6);
  c10::InferenceMode guard;
  const int64_t in = 100, out = 3001;  // > 4 chunks of the kernel's grain at this width
  torch::Tensor w = bf16_randn({out, in}), b = bf16_randn({out}), x = bf16_randn({2, in});
  const int before = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::Tensor one = bf16_gemv(x, w, b);
  torch::set_num_threads(4);
  torch::Tensor four = bf16_gemv(x, w, b);
  torch::set_num_threads(before);
  EXPECT_TRUE(torch::equal(one, four));
  expect_matches_reference(four, x, w, b, "4 threads");
}

// Linear::forward routes one bf16 row through the kernel and stays within
// the rounding of torch::linear's own bf16 result (two roundings: one ulp).
TEST(Bf16Gemv, LinearForwardUsesItForAFewInferenceRows) {
  torch::manual_seed(5);
  c10::InferenceMode guard;
  Linear linear(130, 45, true, torch::TensorOptions().dtype(torch::kBFloat16));
  linear.weight.copy_(bf16_randn({45, 130}));
  linear.bias.copy_(bf16_randn({45}));
  torch::Tensor x = bf16_randn({1, 1, 130});
  torch::Tensor got = linear.forward(x);
  EXPECT_TRUE(torch::equal(got, bf16_gemv(x, linear.weight, linear.bias)));
  torch::Tensor expected = torch::linear(x, linear.weight, linear.bias).to(torch::kFloat);
  EXPECT_TRUE(
      ((got.to(torch::kFloat) - expected).abs() <= expected.abs() * std::ldexp(1.0, -7) + 1e-3).all().item<bool>());
}

TEST(Bf16Gemv, OtherCasesKeepTorchLinear) {
  torch::Tensor w = bf16_randn({8, 16}), x = bf16_randn({1, 16});
  {
    c10::InferenceMode guard;
    EXPECT_TRUE(bf16_gemv_applies(x, w, {}));
    EXPECT_FALSE(bf16_gemv_applies(x.to(torch::kFloat), w.to(torch::kFloat), {}));
    EXPECT_FALSE(bf16_gemv_applies(bf16_randn({bf16_gemv_max_rows() + 1, 16}), w, {}));
    EXPECT_FALSE(bf16_gemv_applies(x.narrow(1, 0, 8), w.t(), {}));  // non-contiguous weight
    GemvSwitch off(false);
    EXPECT_FALSE(bf16_gemv_applies(x, w, {}));
  }
  // Training: a weight that wants gradients gets them through torch::linear.
  torch::Tensor trainable = w.clone().requires_grad_(true);
  EXPECT_FALSE(bf16_gemv_applies(x, trainable, {}));
  Linear linear(16, 8, false, torch::TensorOptions().dtype(torch::kBFloat16));
  linear.weight = trainable;
  linear.forward(x).to(torch::kFloat).sum().backward();
  ASSERT_TRUE(trainable.grad().defined());
  EXPECT_TRUE(torch::allclose(trainable.grad().to(torch::kFloat), x.to(torch::kFloat).expand({8, 16}), 0, 0));
}

// Greedy batch-1 bf16 decode with a KV cache (greedy_decode in
// model_test_util.h): the same tokens with and without the kernel (qwen2
// architecture: biased q/k/v projections).
TEST(Bf16Gemv, GreedyDecodeGivesTheSameTokensWithAndWithoutIt) {
  ModelConfig config = load_model_config(model_dir("qwen2"));
  config.initializer_range = 0.3;  // next-token distributions that are not flat
  ModelRuntime runtime;
  runtime.dtype = "bfloat16";
  CausalLM model(config, runtime, InitMode::random, 11);
  c10::InferenceMode guard;
  const std::vector<int64_t> prompt = to_vector(golden("qwen2", "input_ids")[0]);
  std::vector<torch::Tensor> fast_logits, plain_logits;
  std::vector<int64_t> fast, plain;
  // The kernel alone, without the fused decode path around it
  // (decode_fusion_test.cpp tests that).
  ScopedSwitch unfused(set_fused_decode_enabled, fused_decode_enabled, false);
  {
    GemvSwitch on(true);
    fast = greedy_decode(model, prompt, 16, fast_logits);
  }
  {
    GemvSwitch off(false);
    plain = greedy_decode(model, prompt, 16, plain_logits);
  }
  EXPECT_EQ(fast, plain);
  // Every step's logits agree within bf16 rounding (on this small model they
  // are usually bit-identical: short fp32 sums round the same way).
  for (size_t s = 0; s < fast_logits.size(); ++s) {
    EXPECT_LE(max_abs_diff(fast_logits[s], plain_logits[s]), 0.02 * plain_logits[s].abs().max().item<double>())
        << "step " << s;
  }
  // The decode steps did take the kernel: the model's projections (kept as
  // parameters that require grad) qualify under inference mode.
  const auto& attention = *model.model->layers[0]->as<DecoderLayer>()->self_attn;
  const torch::Tensor row = torch::zeros({1, 1, config.hidden_size}, torch::kBFloat16);
  EXPECT_TRUE(bf16_gemv_applies(row, attention.q_proj->weight, attention.q_proj->bias));
}

}  // namespace
}  // namespace upm::test
