#pragma once
// Shared by the model tests: the reference folders written by
// tools/reference/model_reference.py (transformers' save_pretrained) and
// their goldens (computed by transformers).

#include <cmath>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"
#include "upm/model/lora.h"
#include "upm/model/safetensors.h"
#include "upm/model/weights_loader.h"
#include "test_paths.h"

namespace upm::test {

// Sets a process-wide on/off switch (set_bf16_gemv_enabled,
// set_fused_decode_enabled) for a scope and restores it after.
struct ScopedSwitch {
  ScopedSwitch(void (*set)(bool), bool (*get)(), bool on) : set_(set), before_(get()) { set_(on); }
  ~ScopedSwitch() { set_(before_); }
  void (*set_)(bool);
  bool before_;
};

// Standard-normal values rounded to bf16.
inline torch::Tensor bf16_randn(std::vector<int64_t> sizes) {
  return torch::randn(sizes, torch::kFloat).to(torch::kBFloat16);
}

inline std::string model_dir(const std::string& family) { return upm::test::test_data_dir() + "/model/" + family; }

// A tensor of <family>/golden.safetensors (copied out of the mapping).
inline torch::Tensor golden(const std::string& family, const std::string& name) {
  SafetensorsFile file(model_dir(family) + "/golden.safetensors");
  return file.tensor(name).clone();
}

inline std::shared_ptr<CausalLM> load_reference_model(const std::string& family, const std::string& dtype = "float32") {
  ModelRuntime runtime;
  runtime.dtype = dtype;
  return load_pretrained(model_dir(family), runtime);
}

// Logits [B, T, V] of `ids` (no padding), without autograd.
inline torch::Tensor forward_logits(CausalLM& model, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  ForwardInput in;
  in.input_ids = ids;
  return model.forward(in).logits;
}

// Every adapter tensor drawn from N(0, std) (B non-zero, so that the adapter
// changes the output).
inline void randomise_adapters(Lora& lora, uint64_t seed, double std) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, p] : lora.parameters()) p.copy_(torch::empty(p.sizes()).normal_(0.0, std, gen));
}

inline std::vector<int64_t> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

// Greedy decode of `new_tokens` after `ids` through a KV cache, one forward
// per token (prefill, then one row of one token); each step's last logits
// (fp32) are appended to step_logits. Returns prompt + new ids.
inline std::vector<int64_t> greedy_decode(CausalLM& model, std::vector<int64_t> ids, int64_t new_tokens,
                                          std::vector<torch::Tensor>& step_logits) {
  KVCache cache(model.config(), 1, int64_t(ids.size()) + new_tokens, model.dtype(), model.device());
  ForwardInput in;
  in.input_ids = torch::tensor(ids, torch::kLong).view({1, -1});
  in.cache = &cache;
  in.logits_for = LogitsFor::last;
  for (int64_t step = 0; step < new_tokens; ++step) {
    torch::Tensor logits = model.forward(in).logits.reshape({-1});
    step_logits.push_back(logits.to(torch::kFloat));
    ids.push_back(logits.argmax().item<int64_t>());
    in.input_ids = torch::tensor({ids.back()}, torch::kLong).view({1, 1});
  }
  return ids;
}

// got == expected up to `ulps` bf16 ulps of each element (2^-7 relative; an
// absolute floor for values near zero), and at least `exact` of the
// elements bit-identical.
inline void expect_within_bf16_ulps(const torch::Tensor& got, const torch::Tensor& expected, double ulps, double exact,
                                    const std::string& what) {
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  ASSERT_EQ(got.scalar_type(), expected.scalar_type()) << what;
  const torch::Tensor g = got.to(torch::kFloat), e = expected.to(torch::kFloat);
  const torch::Tensor bound = e.abs() * (ulps * std::ldexp(1.0, -7)) + 1e-6;
  const torch::Tensor err = (g - e).abs();
  EXPECT_TRUE((err <= bound).all().item<bool>()) << what << ": max error " << err.max().item<double>();
  EXPECT_GE(got.eq(expected).to(torch::kFloat).mean().item<double>(), exact) << what << ": bit-identical share";
}

}  // namespace upm::test
