// The sdpa attention kernel (at::scaled_dot_product_attention) against the
// eager one (explicit matmul + fp32 softmax) on the tiny llama / qwen2 /
// qwen3 reference models: logits and every parameter's gradient, in fp32
// and bf16, under a plain causal mask, left and right padding, packed
// segments, a cache holding earlier tokens and `hidden_at`.

#include <functional>

#include <gtest/gtest.h>

#include "model_test_util.h"
#include "upm/core/error.h"
#include "upm/model/attention_kernel.h"
#include "upm/model/kv_cache.h"

namespace upm::test {
namespace {

// Relative to the largest value of each compared tensor. fp32: the kernels
// differ by summation order only (measured <= 1.4e-6 for logits, 2.1e-6 for
// gradients). bf16: the eager path rounds scores and probabilities to bf16,
// the flash kernel keeps them in fp32, and two layers carry the difference
// on (measured <= 1.4e-2 for logits, 2.7e-2 for gradients; 2^-8 is one bf16
// rounding).
double tolerance(c10::ScalarType dtype) { return dtype == torch::kFloat ? 1e-5 : 5e-2; }

// One forward (and, with `backward`, one backward of a fixed random
// weighting of the real positions' logits) under `kernel`.
struct Pass {
  torch::Tensor logits;                                      // fp32
  std::vector<std::pair<std::string, torch::Tensor>> grads;  // fp32, named
  int64_t sdpa_passes = 0;                                   // Attention::forward calls through SDPA
};

Pass run(CausalLM& model, AttentionKernel kernel, const ForwardInput& in, const torch::Tensor& real, bool backward) {
  model.set_attention_kernel(kernel);
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  const int64_t before = attention_sdpa_passes();
  Pass pass;
  ForwardOutput out = model.forward(in);
  pass.sdpa_passes = attention_sdpa_passes() - before;
  pass.logits = out.logits.detach().to(torch::kFloat);
  if (backward) {
    torch::manual_seed(11);
    const torch::Tensor weights =
        torch::randn(out.logits.sizes(), torch::kFloat) * real.unsqueeze(-1).to(torch::kFloat);
    (out.logits.to(torch::kFloat) * weights).sum().backward();
    for (const auto& [name, p] : model.hf_tensors()) {
      if (p.grad().defined()) pass.grads.emplace_back(name, p.grad().to(torch::kFloat));
    }
  }
  return pass;
}

// |a - b| <= tol * max(1, max|b|) for the logits and each gradient.
void expect_close(const Pass& sdpa, const Pass& eager, c10::ScalarType dtype, const std::string& what) {
  const double tol = tolerance(dtype);
  const double logit_scale = std::max(1.0, eager.logits.abs().max().item<double>());
  const double logit_diff = max_abs_diff(sdpa.logits, eager.logits);
  EXPECT_LE(logit_diff, tol * logit_scale) << what << ": logits";
  ASSERT_EQ(sdpa.grads.size(), eager.grads.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < sdpa.grads.size(); ++i) {
    const std::string& name = eager.grads[i].first;
    const torch::Tensor& g = eager.grads[i].second;
    const double scale = g.abs().max().item<double>();
    // A key bias's gradient is the sum over all keys of their gradients,
    // rotated by position; unrotated that sum is zero (a shift of all of a
    // query's scores leaves its softmax alone), so what is left is small
    // against the terms, and bf16 rounding of the terms shows at twice the
    // bound (measured up to 5.2e-2 of the scale in bf16, 2.1e-6 in fp32).
    const double bound = tol * (name.find("k_proj.bias") != std::string::npos && dtype != torch::kFloat ? 2 : 1);
    const double diff = max_abs_diff(sdpa.grads[i].second, g);
    worst = std::max(worst, diff / std::max(scale, 1e-12));
    EXPECT_LE(diff, bound * std::max(scale, 1e-6)) << what << ": grad of " << name;
  }
  std::printf("%s: logits max|diff| %.3g (scale %.3g), worst relative gradient diff %.3g over %zu tensors\n",
              what.c_str(), logit_diff, logit_scale, worst, sdpa.grads.size());
}

struct Case {
  std::string name;
  std::function<ForwardInput(int64_t vocab)> input;
  bool backward = true;
};

torch::Tensor random_ids(int64_t vocab, int64_t B, int64_t T) {
  torch::manual_seed(5);
  return torch::randint(3, vocab, {B, T}, torch::kLong);
}

ForwardInput plain_causal(int64_t vocab) {
  ForwardInput in;
  in.input_ids = random_ids(vocab, 2, 13);
  return in;
}

// Row 0 left-padded by 4 (its first queries see no key at all), row 1
// right-padded by 3, row 2 full.
ForwardInput padded(int64_t vocab) {
  ForwardInput in;
  in.input_ids = random_ids(vocab, 3, 14);
  in.attention_mask = torch::ones({3, 14}, torch::kLong);
  in.attention_mask[0].narrow(0, 0, 4).fill_(0);
  in.attention_mask[1].narrow(0, 11, 3).fill_(0);
  return in;
}

// Row 0: a 5-token prefix (segment 0) and three continuations packed after
// it, positions running on from the prefix; row 1: a prefix, one
// continuation and right padding.
ForwardInput packed(int64_t vocab) {
  ForwardInput in;
  in.input_ids = random_ids(vocab, 2, 15);
  in.segment_ids =
      torch::tensor({0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                    torch::kLong)
          .view({2, 15});
  in.position_ids =
      torch::tensor({0, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0},
                    torch::kLong)
          .view({2, 15});
  in.attention_mask = torch::ones({2, 15}, torch::kLong);
  in.attention_mask[1].narrow(0, 11, 4).fill_(0);
  return in;
}

// The last real token's hidden state only (an embedding read), padded rows.
ForwardInput hidden_at(int64_t vocab) {
  ForwardInput in = padded(vocab);
  in.hidden_at = torch::tensor({13, 10, 13}, torch::kLong);
  in.logits_for = LogitsFor::all;
  return in;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"causal", plain_causal}, {"padded", padded}, {"packed", packed}, {"hidden_at", hidden_at}};
  return all;
}

class SdpaParity : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

// Both kernels on each case: the same logits and gradients within the
// dtype's tolerance, and the sdpa kernel really took SDPA in every layer.
TEST_P(SdpaParity, LogitsAndGradientsMatchEager) {
  const auto& [family, dtype_name] = GetParam();
  auto model = load_reference_model(family, dtype_name);
  const c10::ScalarType dtype = model->dtype();
  const int64_t layers = model->config().num_hidden_layers;
  for (const Case& c : cases()) {
    const ForwardInput in = c.input(model->config().vocab_size);
    torch::Tensor real =
        in.attention_mask.defined() ? in.attention_mask.ne(0) : torch::ones(in.input_ids.sizes(), torch::kBool);
    if (in.hidden_at.defined()) real = torch::ones({real.size(0), 1}, torch::kBool);
    const Pass eager = run(*model, AttentionKernel::eager, in, real, c.backward);
    const Pass sdpa = run(*model, AttentionKernel::sdpa, in, real, c.backward);
    EXPECT_EQ(eager.sdpa_passes, 0) << c.name;
    EXPECT_EQ(sdpa.sdpa_passes, layers) << c.name;
    EXPECT_GT(eager.logits.abs().max().item<double>(), 0.1) << c.name;
    EXPECT_FALSE(eager.grads.empty()) << c.name;
    expect_close(sdpa, eager, dtype, family + " " + dtype_name + " " + c.name);
  }
}

// The tolerance catches a small perturbation of one path: the eager pass
// with one query projection scaled by 1 + 1e-3 (fp32) or 1 + 2^-3 (bf16)
// is outside it, in logits or in gradients.
TEST_P(SdpaParity, ToleranceDetectsAPerturbedPath) {
  const auto& [family, dtype_name] = GetParam();
  auto model = load_reference_model(family, dtype_name);
  const c10::ScalarType dtype = model->dtype();
  const ForwardInput in = padded(model->config().vocab_size);
  const torch::Tensor real = in.attention_mask.ne(0);
  const Pass sdpa = run(*model, AttentionKernel::sdpa, in, real, true);
  torch::Tensor weight = model->model->layers->ptr<DecoderLayer>(0)->self_attn->q_proj->weight;
  const torch::Tensor saved = weight.detach().clone();
  {
    torch::NoGradGuard no_grad;
    weight.mul_(1.0 + (dtype == torch::kFloat ? 1e-3 : 0.125));
  }
  const Pass perturbed = run(*model, AttentionKernel::eager, in, real, true);
  {
    torch::NoGradGuard no_grad;
    weight.copy_(saved);
  }
  const double tol = tolerance(dtype);
  bool outside =
      max_abs_diff(sdpa.logits, perturbed.logits) > tol * std::max(1.0, perturbed.logits.abs().max().item<double>());
  for (size_t i = 0; i < sdpa.grads.size(); ++i) {
    const torch::Tensor& g = perturbed.grads[i].second;
    outside |= max_abs_diff(sdpa.grads[i].second, g) > tol * std::max(g.abs().max().item<double>(), 1e-6);
  }
  EXPECT_TRUE(outside);
}

INSTANTIATE_TEST_SUITE_P(Families, SdpaParity,
                         ::testing::Combine(::testing::Values("llama", "qwen2", "qwen3"),
                                            ::testing::Values("float32", "bfloat16")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

// Prefill in two chunks through a KV cache (the second chunk's queries see
// the first chunk's cached keys: a mask, not is_causal), batched with left
// padding: both kernels give the same logits without autograd, the fp32
// models within 1e-5.
TEST(SdpaCacheParity, CachedChunksMatchEager) {
  for (const std::string family : {"llama", "qwen2", "qwen3"}) {
    auto model = load_reference_model(family);
    c10::InferenceMode guard;
    const ForwardInput whole = padded(model->config().vocab_size);
    std::vector<torch::Tensor> logits;
    for (AttentionKernel kernel : {AttentionKernel::eager, AttentionKernel::sdpa}) {
      model->set_attention_kernel(kernel);
      KVCache cache(model->config(), 3, 32, model->dtype(), model->device());
      std::vector<torch::Tensor> parts;
      for (int64_t t0 : {int64_t(0), int64_t(6)}) {
        const int64_t n = t0 == 0 ? 6 : 8;
        ForwardInput in;
        in.input_ids = whole.input_ids.narrow(1, t0, n);
        in.attention_mask = whole.attention_mask.narrow(1, t0, n);
        in.cache = &cache;
        parts.push_back(model->forward(in).logits);
      }
      logits.push_back(torch::cat(parts, 1));
    }
    const double diff = max_abs_diff(logits[1], logits[0]);
    EXPECT_LE(diff, 1e-5) << family;
    // Real positions only: a padding query sees no key and averages all the
    // values it is shown, which differ between one pass and chunks.
    const torch::Tensor real = whole.attention_mask.ne(0).unsqueeze(-1);
    const torch::Tensor one_pass = model->forward(whole).logits;  // eager
    EXPECT_LE(max_abs_diff(one_pass * real, logits[0] * real), 1e-5) << family << ": chunks vs one pass";
  }
}

// The kernel comes from ModelRuntime::attention; unknown names are refused.
TEST(AttentionKernel, ChosenByTheRuntime) {
  EXPECT_EQ(attention_kernel_from_name("sdpa"), AttentionKernel::sdpa);
  EXPECT_EQ(attention_kernel_from_name("eager"), AttentionKernel::eager);
  EXPECT_EQ(attention_kernel_name(AttentionKernel::eager), "eager");
  EXPECT_THROW(attention_kernel_from_name("flash"), InputError);
  ModelRuntime runtime;
  EXPECT_EQ(runtime.attention, "sdpa");
  EXPECT_EQ(load_pretrained(model_dir("qwen3"), runtime)->attention_kernel(), AttentionKernel::sdpa);
  runtime.attention = "eager";
  EXPECT_EQ(load_pretrained(model_dir("qwen3"), runtime)->attention_kernel(), AttentionKernel::eager);
  runtime.attention = "math";
  EXPECT_THROW(load_pretrained(model_dir("qwen3"), runtime), InputError);
}

// A shared cache prefix (KVCache::prefix) stays on the eager path under
// either kernel (attention.cpp says why): no SDPA call, identical results.
TEST(AttentionKernel, SharedPrefixStaysEager) {
  auto model = load_reference_model("qwen3");
  c10::InferenceMode guard;
  std::vector<torch::Tensor> hidden;
  for (AttentionKernel kernel : {AttentionKernel::eager, AttentionKernel::sdpa}) {
    KVCache cache(model->config(), 3, 32, model->dtype(), model->device());
    ForwardInput history;  // into slot 0, the same keys and values for both
    history.input_ids = random_ids(model->config().vocab_size, 1, 9);
    history.cache = &cache;
    history.slots = {0};
    model->set_attention_kernel(AttentionKernel::eager);
    model->forward(history);
    model->set_attention_kernel(kernel);
    ForwardInput in = padded(model->config().vocab_size);
    in.input_ids = in.input_ids.narrow(0, 0, 2);
    in.attention_mask = in.attention_mask.narrow(0, 0, 2);
    in.cache = &cache;
    in.slots = {1, 2};
    in.prefix_slot = 0;
    in.prefix_length = 9;
    const int64_t before = attention_sdpa_passes();
    hidden.push_back(model->forward(in).hidden);
    EXPECT_EQ(attention_sdpa_passes(), before);
  }
  EXPECT_TRUE(torch::equal(hidden[0], hidden[1]));
}

}  // namespace
}  // namespace upm::test
