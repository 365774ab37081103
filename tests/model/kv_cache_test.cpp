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

namespace upm::test {
namespace {

// Shared read-only prefix: rows read the history from its slot in place
// instead of a copy. Same logits as copied prefixes, over two steps (the
// second step attends to the prefix and to the row's own earlier entries),
// with right padding and a padded prefix (left-padded prompt), for every
// family (GQA groups of 2 in qwen3/llama).
class SharedPrefix : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedPrefix, SharedSlotAttentionEqualsCopiedPrefixAttention) {
  auto model = load_reference_model(GetParam());
  c10::InferenceMode guard;
  torch::Tensor ids = golden(GetParam(), "input_ids");  // [2, 12]
  // A prefix whose first two entries are padding.
  torch::Tensor prompt = ids[0].narrow(0, 0, 7).view({1, 7});
  torch::Tensor prompt_mask = torch::ones({1, 7}, torch::kLong);
  prompt_mask[0][0] = 0;
  prompt_mask[0][1] = 0;
  torch::Tensor queries = ids[1].narrow(0, 0, 9).view({3, 3});
  torch::Tensor query_mask = torch::ones({3, 3}, torch::kLong);
  query_mask[1][2] = 0;  // row 1 right-padded
  torch::Tensor next = torch::tensor({4, 8, 15}, torch::kLong).view({3, 1});

  auto run = [&](bool shared) {
    KVCache cache(model->config(), 4, 16, model->dtype(), model->device());
    ForwardInput pre;
    pre.input_ids = prompt;
    pre.attention_mask = prompt_mask;
    pre.cache = &cache;
    pre.slots = {0};
    model->forward(pre);
    for (int64_t s = 1; s <= 3; ++s) shared ? cache.reset(s) : cache.copy_prefix(0, s, 7);
    std::vector<torch::Tensor> out;
    for (int step = 0; step < 2; ++step) {
      ForwardInput in;
      in.input_ids = step == 0 ? queries : next;
      if (step == 0) in.attention_mask = query_mask;
      in.cache = &cache;
      in.slots = {1, 2, 3};
      if (shared) {
        in.prefix_slot = 0;
        in.prefix_length = 7;
      }
      out.push_back(model->forward(in).logits);
    }
    EXPECT_EQ(cache.length(1), shared ? 4 : 11);
    EXPECT_EQ(cache.length(0), 7);  // the shared slot is read only
    return out;
  };
  auto copied = run(false), shared = run(true);
  for (int step = 0; step < 2; ++step) {
    if (step == 0) {
      // Padding rows are not compared (their output is meaningless).
      for (int64_t r = 0; r < 3; ++r) {
        const int64_t real = query_mask[r].sum().item<int64_t>();
        EXPECT_LE(max_abs_diff(shared[0][r].narrow(0, 0, real), copied[0][r].narrow(0, 0, real)), 1e-5) << "row " << r;
      }
    } else {
      EXPECT_LE(max_abs_diff(shared[1], copied[1]), 1e-5);
    }
  }
  // And the first row equals a full forward with no cache at all.
  ForwardInput full;
  full.input_ids = torch::cat({prompt, queries[0].view({1, 3})}, 1);
  full.attention_mask = torch::cat({prompt_mask, torch::ones({1, 3}, torch::kLong)}, 1);
  EXPECT_LE(max_abs_diff(shared[0][0], model->forward(full).logits[0].narrow(0, 7, 3)), 1e-5);
}

// hidden_at: the last layer computes only one position per row. Its hidden
// states and logits equal the full forward's at those positions, with no
// cache and with queries reading a shared prefix slot (right padding, each row
// read at its last real token), and the cache gets the same keys and values
// (a later step over it gives the same logits).
TEST_P(SharedPrefix, HiddenAtEqualsTheFullForwardAtThosePositions) {
  auto model = load_reference_model(GetParam());
  c10::InferenceMode guard;
  torch::Tensor ids = golden(GetParam(), "input_ids");  // [2, 12]
  ForwardInput full;
  full.input_ids = ids;
  ForwardOutput all = model->forward(full);
  ForwardInput some = full;
  some.hidden_at = torch::tensor({11, 4}, torch::kLong);
  ForwardOutput picked = model->forward(some);
  ASSERT_EQ(picked.hidden.sizes(), (std::vector<int64_t>{2, 1, model->config().hidden_size}));
  EXPECT_LE(max_abs_diff(picked.hidden[0][0], all.hidden[0][11]), 1e-5);
  EXPECT_LE(max_abs_diff(picked.hidden[1][0], all.hidden[1][4]), 1e-5);
  EXPECT_LE(max_abs_diff(picked.logits[1][0], all.logits[1][4]), 1e-5);

  torch::Tensor prompt = ids[0].narrow(0, 0, 7).view({1, 7});
  torch::Tensor queries = ids[1].narrow(0, 0, 9).view({3, 3});
  torch::Tensor query_mask = torch::ones({3, 3}, torch::kLong);
  query_mask[1][2] = 0;  // row 1 right-padded: read at position 1
  auto run = [&](bool only_last) {
    KVCache cache(model->config(), 4, 16, model->dtype(), model->device());
    ForwardInput pre;
    pre.input_ids = prompt;
    pre.cache = &cache;
    pre.slots = {0};
    model->forward(pre);
    ForwardInput in;
    in.input_ids = queries;
    in.attention_mask = query_mask;
    in.cache = &cache;
    in.slots = {1, 2, 3};
    in.prefix_slot = 0;
    in.prefix_length = 7;
    if (only_last) in.hidden_at = torch::tensor({2, 1, 2}, torch::kLong);
    torch::Tensor hidden = model->forward(in).hidden;
    ForwardInput next;
    next.input_ids = torch::tensor({4, 8, 15}, torch::kLong).view({3, 1});
    next.cache = &cache;
    next.slots = {1, 2, 3};
    next.prefix_slot = 0;
    next.prefix_length = 7;
    return std::make_pair(hidden, model->forward(next).logits);
  };
  auto [full_hidden, full_next] = run(false);
  auto [last_hidden, last_next] = run(true);
  const std::vector<int64_t> read{2, 1, 2};
  for (int64_t r = 0; r < 3; ++r) {
    EXPECT_LE(max_abs_diff(last_hidden[r][0], full_hidden[r][read[size_t(r)]]), 1e-5) << "row " << r;
  }
  EXPECT_LE(max_abs_diff(last_next, full_next), 1e-5);
  some.hidden_at = torch::tensor({12, 0}, torch::kLong);
  UPM_EXPECT_THROW_WITH(model->forward(some), Error, "hidden_at outside [0, 12)");
  some.hidden_at = torch::tensor({1}, torch::kLong);
  UPM_EXPECT_THROW_WITH(model->forward(some), Error, "hidden_at must be [B]");
}

INSTANTIATE_TEST_SUITE_P(Families, SharedPrefix, ::testing::Values("qwen3", "llama", "qwen2"));

TEST(KVCache, SharedPrefixSlotMustBeValid) {
  auto model = load_reference_model("qwen3");
  KVCache cache(model->config(), 3, 8, model->dtype(), model->device());
  torch::Tensor valid = torch::ones({1, 2}, torch::kBool);
  UPM_EXPECT_THROW_WITH(cache.begin_step({0}, valid, 0, 0), Error, "cannot also be a row's own slot");
  UPM_EXPECT_THROW_WITH(cache.begin_step({1}, valid, 0, 3), Error, "holds 0");
}

}  // namespace
}  // namespace upm::test
