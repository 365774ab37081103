// Cluster soft prompts in the Embedder: file round trip, strict load, the
// prefix-shared path with prompts equals a full forward with them, and the
// prompts change the embedding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "embed_test_util.h"
#include "upm/model/safetensors.h"
#include "upm/embed/embedder.h"
#include "upm/embed/soft_prompts.h"

namespace upm {
namespace {

using test::TempDir;

std::vector<int64_t> ids(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  auto t = torch::randint(0, test::kTinyVocab, {n}, torch::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(SoftPrompts, RoundTripThroughSafetensorsAndStrictLoad) {
  TempDir dir;
  SoftPrompts p;
  p.prompts = torch::randn({3, 6, 32});
  p.centroids = torch::randn({3, 16});
  save_soft_prompts(p, dir.file("sp.safetensors"));
  SoftPrompts back = load_soft_prompts(dir.file("sp.safetensors"), 32, 16);
  EXPECT_TRUE(torch::equal(back.prompts, p.prompts));
  EXPECT_TRUE(torch::equal(back.centroids, p.centroids));
  EXPECT_EQ(back.clusters(), 3);
  EXPECT_EQ(back.tokens(), 6);
  UPM_EXPECT_THROW_WITH(load_soft_prompts(dir.file("sp.safetensors"), 64, 16), InputError,
                        "expected [clusters, tokens, 64]");
  UPM_EXPECT_THROW_WITH(load_soft_prompts(dir.file("sp.safetensors"), 32, 8), InputError, "centroids");
  write_safetensors(dir.file("only.safetensors"), {{"prompts", p.prompts}});
  UPM_EXPECT_THROW_WITH(load_soft_prompts(dir.file("only.safetensors"), 32, 16), InputError, "centroids");
  // The nearest centroid.
  EXPECT_EQ(p.cluster_of(p.centroids[2] + 1e-3), 2);
}

TEST(SoftPrompts, EmbedderWithPromptsEqualsFromScratchAndDiffersFromNone) {
  EmbedderSettings settings;
  settings.query_batch = 2;
  auto model = test::tiny_model("qwen3");
  Embedder plain(model, nullptr, settings);
  Embedder prompted(model, nullptr, settings);
  const auto history_a = ids(40, 1), history_b = ids(30, 2);
  // One cluster per user: the centroids are the users' own query-free embeddings.
  auto sp = std::make_shared<SoftPrompts>();
  sp->centroids = torch::stack({plain.history_embedding(history_a), plain.history_embedding(history_b)});
  sp->prompts = torch::randn({2, 6, 32}) * 0.05;
  prompted.set_soft_prompts(sp);
  EXPECT_EQ(prompted.cluster_of(history_a), 0);
  EXPECT_EQ(prompted.cluster_of(history_b), 1);

  std::vector<std::vector<int64_t>> queries{ids(4, 3), ids(7, 4), ids(2, 5)};
  for (const auto* history : {&history_a, &history_b}) {
    UserEmbeddings with = prompted.embed(*history, queries), without = plain.embed(*history, queries);
    for (size_t q = 0; q < queries.size(); ++q) {
      torch::Tensor reference = prompted.embed_from_scratch(*history, queries[q]);
      EXPECT_LE(max_diff(with.queries[int64_t(q)], reference), 1e-5) << "query " << q;
      EXPECT_GT(max_diff(with.queries[int64_t(q)], without.queries[int64_t(q)]), 1e-3) << "query " << q;
    }
  }
  // The other cluster's prompt gives another embedding.
  auto swapped = std::make_shared<SoftPrompts>(*sp);
  swapped->prompts = sp->prompts.flip(0);
  prompted.set_soft_prompts(swapped);
  EXPECT_GT(max_diff(prompted.embed(history_a, queries).queries, plain.embed(history_a, queries).queries), 1e-3);
}

}  // namespace
}  // namespace upm
