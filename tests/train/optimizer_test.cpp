#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "upm/train/optimizer.h"

namespace upm {
namespace {

TEST(OptimizerTest, WeightDecaySkipsNormsAndBiases) {
  EXPECT_TRUE(decays("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_TRUE(decays("model.embed_tokens.weight"));
  EXPECT_FALSE(decays("model.layers.0.self_attn.q_proj.bias"));
  EXPECT_FALSE(decays("model.layers.0.input_layernorm.weight"));
  EXPECT_FALSE(decays("model.layers.0.self_attn.k_norm.weight"));
  EXPECT_FALSE(decays("model.norm.weight"));

  // Zero gradients: Adam's update is 0, so only decoupled decay moves a weight.
  auto w = torch::ones({3, 3}, torch::requires_grad()), b = torch::ones({3}, torch::requires_grad());
  auto n = torch::ones({3}, torch::requires_grad());
  AdamWConfig config;
  config.weight_decay = 0.5;
  AdamW opt({{"x.weight", w}, {"x.bias", b}, {"model.norm.weight", n}}, config);
  for (auto& p : {w, b, n}) p.mutable_grad() = torch::zeros_like(p);
  opt.step(0.1);
  EXPECT_TRUE(torch::allclose(w, torch::full({3, 3}, 1.0 - 0.1 * 0.5)));
  EXPECT_TRUE(torch::equal(b, torch::ones({3})));
  EXPECT_TRUE(torch::equal(n, torch::ones({3})));
}

TEST(OptimizerTest, Bf16WeightsFollowFp32MastersOfTheSameSteps) {
  torch::manual_seed(3);
  auto init = torch::randn({16, 16});
  auto w32 = init.clone().requires_grad_(true);
  auto w16 = init.to(torch::kBFloat16).requires_grad_(true);
  AdamWConfig config;
  config.weight_decay = 0.1;
  AdamW opt32({{"a.weight", w32}}, config), opt16({{"a.weight", w16}}, config);
  // The master starts from the bf16 weight: the fp32 run starts from the same rounded values.
  {
    torch::NoGradGuard g;
    w32.copy_(w16.to(torch::kFloat));
  }
  for (int step = 0; step < 20; ++step) {
    auto grad = torch::randn({16, 16}) * 1e-3;  // small updates, far below bf16's resolution of ~1
    w32.mutable_grad() = grad.clone();
    w16.mutable_grad() = grad.to(torch::kBFloat16);
    opt32.step(1e-3);
    opt16.step(1e-3);
  }
  auto state = opt16.state();
  torch::Tensor master;
  for (auto& [name, t] : state) {
    if (name == "master.a.weight") master = t;
  }
  ASSERT_TRUE(master.defined());
  EXPECT_EQ(master.scalar_type(), torch::kFloat);
  // Masters accumulate steps a bf16 weight would round away; the gradients
  // differ only by bf16 rounding of the grads themselves.
  EXPECT_LT((master - w32).abs().max().item<double>(), 2e-4);
  EXPECT_TRUE(torch::equal(w16, master.to(torch::kBFloat16)));
  EXPECT_FALSE(torch::equal(master, w16.to(torch::kFloat)));
}

TEST(OptimizerTest, ClipGradNormScalesToTheGlobalNorm) {
  auto a = torch::zeros({2}, torch::requires_grad()), b = torch::zeros({1}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / (5.0 + 1e-6), 1e-6);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / (5.0 + 1e-6), 1e-6);
  // Below the limit nothing changes.
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0), 1.0, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / (5.0 + 1e-6), 1e-6);
}

TEST(OptimizerTest, StateRoundTripsAndRejectsMismatches) {
  auto w = torch::randn({4}).to(torch::kBFloat16).requires_grad_(true);
  AdamW opt({{"w.weight", w}}, {});
  w.mutable_grad() = torch::ones_like(w);
  opt.step(0.01);
  AdamW fresh({{"w.weight", w.detach().clone().requires_grad_(true)}}, {});
  fresh.load_state(opt.state(), opt.steps(), "test");
  EXPECT_EQ(fresh.steps(), 1);
  for (size_t i = 0; i < opt.state().size(); ++i)
    EXPECT_TRUE(torch::equal(opt.state()[i].second, fresh.state()[i].second));
  auto state = opt.state();
  state.pop_back();
  EXPECT_THROW(fresh.load_state(state, 1, "test"), InputError);
}

}  // namespace
}  // namespace upm
