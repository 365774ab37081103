// The C++ decoder against tools/reference/model_reference.py (Hugging Face
// transformers' LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM, fp32,
// eager attention): logits (max |diff| <= 1e-4), greedy generations
// (model.generate, do_sample=False: ids equal), and the equivalences the KV
// cache and padding must preserve.

#include <gtest/gtest.h>

#include "model_test_util.h"
#include "upm/core/error.h"
#include "upm/infer/greedy.h"
#include "upm/infer/padded_batch.h"
#include "upm/model/attention_chunking.h"
#include "upm/model/kv_cache.h"

namespace upm::test {
namespace {

class ModelParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelParity, LogitsMatchReference) {
  auto model = load_reference_model(GetParam());
  c10::InferenceMode guard;
  ForwardInput in;
  in.input_ids = golden(GetParam(), "input_ids");
  torch::Tensor expected = golden(GetParam(), "logits");
  torch::Tensor logits = model->forward(in).logits;
  ASSERT_EQ(logits.sizes(), expected.sizes());
  double diff = max_abs_diff(logits, expected);
  std::printf("%s: logits[0,0,0:2] = %.6f %.6f (reference %.6f %.6f), max|diff| = %.3g\n", GetParam().c_str(),
              logits[0][0][0].item<float>(), logits[0][0][1].item<float>(), expected[0][0][0].item<float>(),
              expected[0][0][1].item<float>(), diff);
  EXPECT_LE(diff, 1e-4);
  EXPECT_GT(expected.abs().max().item<double>(), 0.5);  // the goldens are not near zero
}

// Restores the attention score budget after a test that shrinks it.
struct ScopedScoreBudget {
  explicit ScopedScoreBudget(int64_t elements) : before(attention_score_budget()) {
    set_attention_score_budget(elements);
  }
  ~ScopedScoreBudget() { set_attention_score_budget(before); }
  int64_t before;
};

// Attention without autograd taken a few query rows at a time
// (attention_chunking.h) still gives the reference's logits and greedy ids,
// through a padded batch and a KV cache; a pass that keeps the autograd
// graph is never sliced.
TEST_P(ModelParity, SlicedAttentionMatchesReferenceAndTrainingIsNotSliced) {
  auto model = load_reference_model(GetParam());
  model->set_attention_kernel(AttentionKernel::eager);  // slicing is the eager path's (sdpa holds no scores)
  ForwardInput in;
  in.input_ids = golden(GetParam(), "input_ids");  // [2, 12]
  const torch::Tensor expected = golden(GetParam(), "logits");
  ScopedScoreBudget budget(1);  // one query row per slice
  ASSERT_EQ(attention_query_rows_per_slice(2, 4, 12, 12), 1);
  const int64_t passes = attention_sliced_passes();
  {
    c10::InferenceMode guard;
    EXPECT_LE(max_abs_diff(model->forward(in).logits, expected), 1e-4);
  }
  EXPECT_GT(attention_sliced_passes(), passes);

  std::vector<int64_t> prompt = to_vector(golden(GetParam(), "greedy_prompt"));
  std::vector<int64_t> greedy = to_vector(golden(GetParam(), "greedy_ids"));
  GreedyOptions options;
  options.max_new_tokens = int64_t(greedy.size());
  auto generated = greedy_generate(*model, {prompt, prompt}, options);
  ASSERT_EQ(generated.size(), 2u);
  EXPECT_EQ(generated[0], greedy);
  EXPECT_EQ(generated[1], greedy);

  const int64_t before_training = attention_sliced_passes();
  torch::Tensor logits = model->forward(in).logits;
  EXPECT_TRUE(logits.requires_grad());
  EXPECT_EQ(attention_sliced_passes(), before_training);
  EXPECT_LE(max_abs_diff(logits.detach(), expected), 1e-4);
}

TEST(AttentionSlices, RowsPerSliceKeepTheScoresUnderTheBudget) {
  ScopedScoreBudget budget(1000);
  EXPECT_EQ(attention_query_rows_per_slice(1, 2, 10, 50), 10);  // 1000 scores: fits
  EXPECT_EQ(attention_query_rows_per_slice(1, 2, 11, 50), 10);
  EXPECT_EQ(attention_query_rows_per_slice(2, 4, 100, 100), 1);  // one row is over the budget: still 1
  set_attention_score_budget(0);
  EXPECT_EQ(attention_query_rows_per_slice(8, 32, 8192, 8192), 8192);  // 0: never slice
  set_attention_score_budget(int64_t(1) << 26);
  EXPECT_EQ(attention_query_rows_per_slice(1, 32, 8192, 8192), 256);  // Qwen3-8B, one 8k prompt
}

TEST_P(ModelParity, GreedyGenerationMatchesReference) {
  auto model = load_reference_model(GetParam());
  std::vector<int64_t> prompt = to_vector(golden(GetParam(), "greedy_prompt"));
  std::vector<int64_t> expected = to_vector(golden(GetParam(), "greedy_ids"));
  GreedyOptions options;
  options.max_new_tokens = int64_t(expected.size());
  auto generated = greedy_generate(*model, {prompt}, options);
  ASSERT_EQ(generated.size(), 1u);
  EXPECT_EQ(generated[0], expected);
}

TEST_P(ModelParity, CachedDecodingEqualsFullSequence) {
  auto model = load_reference_model(GetParam());
  c10::InferenceMode guard;
  torch::Tensor ids = golden(GetParam(), "input_ids");  // [2, 12]
  ForwardInput full;
  full.input_ids = ids;
  torch::Tensor expected = model->forward(full).logits;

  // Prefill 5 tokens, then one at a time.
  KVCache cache(model->config(), 2, 16, model->dtype(), model->device());
  std::vector<torch::Tensor> pieces;
  ForwardInput in;
  in.cache = &cache;
  in.input_ids = ids.narrow(1, 0, 5);
  pieces.push_back(model->forward(in).logits);
  for (int64_t t = 5; t < ids.size(1); ++t) {
    in.input_ids = ids.narrow(1, t, 1);
    pieces.push_back(model->forward(in).logits);
  }
  EXPECT_EQ(cache.length(0), 12);
  EXPECT_EQ(cache.next_position(1), 12);
  EXPECT_LE(max_abs_diff(torch::cat(pieces, 1), expected), 1e-5);
}

TEST_P(ModelParity, PaddedBatchEqualsSingleSequences) {
  auto model = load_reference_model(GetParam());
  c10::InferenceMode guard;
  std::vector<int64_t> all = to_vector(golden(GetParam(), "input_ids")[0]);
  std::vector<std::vector<int64_t>> seqs = {
      {all.begin(), all.begin() + 12}, {all.begin(), all.begin() + 3}, {all.begin() + 4, all.begin() + 11}};
  for (PadSide side : {PadSide::left, PadSide::right}) {
    PaddedBatch batch = pad_sequences(seqs, side, /*pad_id=*/7);
    ForwardInput in;
    in.input_ids = batch.ids;
    in.attention_mask = batch.mask;
    torch::Tensor logits = model->forward(in).logits;
    for (size_t b = 0; b < seqs.size(); ++b) {
      ForwardInput one;
      one.input_ids = torch::tensor(seqs[b]).view({1, -1});
      torch::Tensor expected = model->forward(one).logits[0];
      const int64_t n = int64_t(seqs[b].size());
      const int64_t start = side == PadSide::left ? batch.ids.size(1) - n : 0;
      EXPECT_LE(max_abs_diff(logits[b].narrow(0, start, n), expected), 1e-5)
          << "row " << b << (side == PadSide::left ? " left" : " right") << "-padded";
    }
  }
}

// Continuations packed after one shared prefix (segment_ids + position_ids)
// give each continuation the logits it has alone after the prefix; a padded
// second row and a cache are checked too.
TEST_P(ModelParity, PackedContinuationsEqualEachAloneAfterThePrefix) {
  auto model = load_reference_model(GetParam());
  c10::InferenceMode guard;
  std::vector<int64_t> all = to_vector(golden(GetParam(), "input_ids")[0]);
  const std::vector<int64_t> prefix(all.begin(), all.begin() + 6);
  const std::vector<std::vector<int64_t>> continuations = {{all[6], all[7], all[8]}, {all[9]}, {all[10], all[2]}};
  std::vector<int64_t> ids = prefix, positions, segments(prefix.size(), 0);
  for (size_t i = 0; i < prefix.size(); ++i) positions.push_back(int64_t(i));
  for (size_t c = 0; c < continuations.size(); ++c) {
    for (size_t j = 0; j < continuations[c].size(); ++j) {
      ids.push_back(continuations[c][j]);
      positions.push_back(int64_t(prefix.size() + j));
      segments.push_back(int64_t(c) + 1);
    }
  }
  // Row 1: the prefix alone, right-padded to row 0's length.
  std::vector<int64_t> short_row = prefix;
  PaddedBatch batch = pad_sequences({ids, short_row}, PadSide::right, /*pad_id=*/7);
  const int64_t T = batch.ids.size(1);
  ForwardInput in;
  in.input_ids = batch.ids;
  in.attention_mask = batch.mask;
  in.position_ids = torch::zeros({2, T}, torch::kLong);
  in.position_ids[0].copy_(torch::tensor(positions));
  in.position_ids[1].narrow(0, 0, int64_t(prefix.size())).copy_(torch::arange(int64_t(prefix.size())));
  in.segment_ids = torch::zeros({2, T}, torch::kLong);
  in.segment_ids[0].copy_(torch::tensor(segments));
  const torch::Tensor packed = model->forward(in).logits;

  int64_t at = int64_t(prefix.size());
  for (size_t c = 0; c < continuations.size(); ++c) {
    std::vector<int64_t> alone = prefix;
    alone.insert(alone.end(), continuations[c].begin(), continuations[c].end());
    ForwardInput one;
    one.input_ids = torch::tensor(alone).view({1, -1});
    const torch::Tensor expected = model->forward(one).logits[0];
    const int64_t n = int64_t(continuations[c].size()), P = int64_t(prefix.size());
    EXPECT_LE(max_abs_diff(packed[0].narrow(0, at, n), expected.narrow(0, P, n)), 1e-5) << "continuation " << c;
    if (c == 0) {
      EXPECT_LE(max_abs_diff(packed[0].narrow(0, 0, P), expected.narrow(0, 0, P)), 1e-5) << "prefix";
      EXPECT_LE(max_abs_diff(packed[1].narrow(0, 0, P), expected.narrow(0, 0, P)), 1e-5) << "padded prefix row";
    }
    at += n;
  }

  KVCache cache(model->config(), 2, 32, model->dtype(), model->device());
  in.cache = &cache;
  EXPECT_THROW(model->forward(in), Error);
  in.cache = nullptr;
  in.segment_ids = torch::zeros({2, T + 1}, torch::kLong);
  EXPECT_THROW(model->forward(in), Error);
}

TEST_P(ModelParity, BatchedGreedyEqualsOneByOne) {
  auto model = load_reference_model(GetParam());
  std::vector<int64_t> prompt = to_vector(golden(GetParam(), "greedy_prompt"));
  std::vector<int64_t> expected = to_vector(golden(GetParam(), "greedy_ids"));
  std::vector<int64_t> other = to_vector(golden(GetParam(), "input_ids")[1]);
  GreedyOptions options;
  options.max_new_tokens = 32;
  auto alone = greedy_generate(*model, {other}, options);
  auto together = greedy_generate(*model, {prompt, other}, options);
  EXPECT_EQ(together[0], expected);
  EXPECT_EQ(together[1], alone[0]);
}

TEST_P(ModelParity, Bfloat16StaysCloseToFloat32) {
  auto model = load_reference_model(GetParam(), "bfloat16");
  c10::InferenceMode guard;
  EXPECT_EQ(model->dtype(), torch::kBFloat16);
  ForwardInput in;
  in.input_ids = golden(GetParam(), "input_ids");
  torch::Tensor expected = golden(GetParam(), "logits");
  torch::Tensor logits = model->forward(in).logits;
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
  // bf16 keeps 8 bits of mantissa: a loose bound relative to the logit scale.
  EXPECT_LE(max_abs_diff(logits, expected), 0.1 * expected.abs().max().item<double>());
}

INSTANTIATE_TEST_SUITE_P(Families, ModelParity, ::testing::Values("llama", "qwen2", "qwen3"));

}  // namespace
}  // namespace upm::test
