#include <gtest/gtest.h>

#include "model_test_util.h"
#include "test_util.h"
#include "upm/core/error.h"
#include "upm/model/kv_cache.h"

namespace upm::test {
namespace {

torch::Tensor step_logits(CausalLM& model, KVCache& cache, std::vector<int64_t> slots, torch::Tensor ids) {
  ForwardInput in;
  in.input_ids = ids;
  in.cache = &cache;
  in.slots = std::move(slots);
  return model.forward(in).logits;
}

// A GRPO group: prefill a prompt once, copy it to other slots, decode them
// together with different continuations; each equals its full recompute.
TEST(KVCache, CopiedPrefixDecodesLikeAFreshPrefill) {
  auto model = load_reference_model("qwen3");
  c10::InferenceMode guard;
  torch::Tensor ids = golden("qwen3", "input_ids");  // [2, 12]
  torch::Tensor prompt = ids[0].narrow(0, 0, 6).view({1, 6});
  KVCache cache(model->config(), 4, 32, model->dtype(), model->device());
  step_logits(*model, cache, {0}, prompt);
  cache.copy_prefix(0, 2, 6);
  cache.copy_prefix(0, 3, 6);
  EXPECT_EQ(cache.length(3), 6);
  EXPECT_EQ(cache.next_position(2), 6);
  // Slots 0, 2 and 3 (not contiguous) each get a different next token.
  torch::Tensor next = torch::tensor({5, 17, 99}, torch::kLong).view({3, 1});
  torch::Tensor got = step_logits(*model, cache, {0, 2, 3}, next);
  for (int64_t r = 0; r < 3; ++r) {
    ForwardInput full;
    full.input_ids = torch::cat({prompt, next[r].view({1, 1})}, 1);
    torch::Tensor expected = model->forward(full).logits[0][6];
    EXPECT_LE(max_abs_diff(got[r][0], expected), 1e-5) << "row " << r;
  }
}

TEST(KVCache, KeepRollsBackASuffix) {
  auto model = load_reference_model("llama");
  c10::InferenceMode guard;
  torch::Tensor ids = golden("llama", "input_ids").narrow(0, 0, 1);  // [1, 12]
  KVCache cache(model->config(), 1, 16, model->dtype(), model->device());
  step_logits(*model, cache, {0}, ids.narrow(1, 0, 8));
  cache.keep(0, 4);
  EXPECT_EQ(cache.length(0), 4);
  EXPECT_EQ(cache.next_position(0), 4);
  torch::Tensor got = step_logits(*model, cache, {0}, ids.narrow(1, 4, 1));
  ForwardInput full;
  full.input_ids = ids.narrow(1, 0, 5);
  EXPECT_LE(max_abs_diff(got[0][0], model->forward(full).logits[0][4]), 1e-5);
}

TEST(KVCache, OverflowThrowsAndLeavesTheCacheUsable) {
  auto model = load_reference_model("qwen2");
  c10::InferenceMode guard;
  KVCache cache(model->config(), 2, 8, model->dtype(), model->device());
  torch::Tensor ids = golden("qwen2", "input_ids");
  step_logits(*model, cache, {0, 1}, ids.narrow(1, 0, 6));
  UPM_EXPECT_THROW_WITH(step_logits(*model, cache, {0, 1}, ids.narrow(1, 6, 3)), InputError,
                        "holds 6 tokens; 3 more exceed the cache length 8");
  EXPECT_EQ(cache.length(0), 6);
  EXPECT_NO_THROW(step_logits(*model, cache, {0, 1}, ids.narrow(1, 6, 2)));
  EXPECT_EQ(cache.length(1), 8);
  cache.reset(1);
  EXPECT_EQ(cache.length(1), 0);
  EXPECT_THROW(cache.copy_prefix(0, 1, 9), Error);
  EXPECT_THROW(cache.length(2), Error);
}

}  // namespace
}  // namespace upm::test
