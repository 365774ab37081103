// Option scoring against the teacher-forced per-token log-probs of the whole
// sequence (token_logprobs, itself checked against the transformers reference
// logits): the context computed once and shared must change nothing.

#include "upm/infer/scorer.h"

#include <gtest/gtest.h>

#include "infer_test_util.h"
#include "test_util.h"
#include "upm/core/jsonl.h"
#include "upm/infer/token_logprobs.h"

namespace upm::test {
namespace {

std::vector<ScoringRequest> requests_for(const std::string& family) {
  auto p = mixed_prompts(family);
  return {{p[0], {{4, 5, 6}, {9}, {p[1].begin(), p[1].end()}}},
          {p[1], {{17, 3}, {100, 101, 102, 103, 104}}},
          {p[2], {}},
          {{1}, {{2}, {3, 3}}}};
}

class ScorerFamilies : public ::testing::TestWithParam<std::string> {};

TEST_P(ScorerFamilies, OptionScoresEqualSumOfTokenLogprobs) {
  auto model = load_reference_model(GetParam());
  auto requests = requests_for(GetParam());
  auto scores = score_options(*model, requests);
  ASSERT_EQ(scores.size(), requests.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    ASSERT_EQ(scores[r].size(), requests[r].options.size());
    for (size_t o = 0; o < requests[r].options.size(); ++o) {
      const auto& option = requests[r].options[o];
      std::vector<int64_t> full = requests[r].context;
      full.insert(full.end(), option.begin(), option.end());
      auto reference = token_logprobs(*model, {full})[0];
      const size_t offset = requests[r].context.size() - 1;
      double sum = 0;
      ASSERT_EQ(scores[r][o].token_logprobs.size(), option.size());
      for (size_t j = 0; j < option.size(); ++j) {
        EXPECT_NEAR(scores[r][o].token_logprobs[j], reference[offset + j], 1e-4) << r << "/" << o << "/" << j;
        sum += reference[offset + j];
      }
      EXPECT_NEAR(scores[r][o].total, sum, 1e-4);
      EXPECT_NEAR(scores[r][o].mean, sum / double(option.size()), 1e-4);
      EXPECT_LT(scores[r][o].total, 0.0);
    }
  }
}

// Against transformers' per-token log-probs (the goldens
// `upm-infer score` is checked against): each sequence split into a context
// and two options (the rest, and the rest minus its last token).
TEST_P(ScorerFamilies, OptionScoresEqualReferenceLogprobSums) {
  auto model = load_reference_model(GetParam());
  auto expected = read_jsonl_file(model_dir(GetParam()) + "/score_expected.jsonl");
  ASSERT_FALSE(expected.empty());
  std::vector<ScoringRequest> requests;
  std::vector<std::vector<double>> sums;
  for (const auto& record : expected) {
    auto ids = record["ids"].get<std::vector<int64_t>>();
    auto logprobs = record["logprobs"].get<std::vector<double>>();
    ASSERT_GE(ids.size(), 4u);
    const size_t k = ids.size() / 2;
    std::vector<int64_t> rest(ids.begin() + k, ids.end());
    requests.push_back({{ids.begin(), ids.begin() + k}, {rest, {rest.begin(), rest.end() - 1}}});
    double all = 0;
    for (size_t i = k - 1; i < logprobs.size(); ++i) all += logprobs[i];
    sums.push_back({all, all - logprobs.back()});
  }
  auto scores = score_options(*model, requests);
  for (size_t r = 0; r < requests.size(); ++r) {
    EXPECT_NEAR(scores[r][0].total, sums[r][0], 1e-4) << "sequence " << r;
    EXPECT_NEAR(scores[r][1].total, sums[r][1], 1e-4) << "sequence " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ScorerFamilies, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(Scorer, ChunkingDoesNotChangeScores) {
  auto model = load_reference_model("qwen3");
  auto requests = requests_for("qwen3");
  auto together = score_options(*model, requests);
  ScoringConfig one_at_a_time;
  one_at_a_time.max_batch_sequences = 1;
  auto apart = score_options(*model, requests, one_at_a_time);
  for (size_t r = 0; r < requests.size(); ++r) {
    for (size_t o = 0; o < together[r].size(); ++o) EXPECT_NEAR(together[r][o].total, apart[r][o].total, 1e-4);
  }
}

TEST(Scorer, BadIdsNameTheRequestAndOption) {
  auto model = load_reference_model("qwen3");
  UPM_EXPECT_THROW_WITH(score_options(*model, {{{1, 2}, {{3}}}, {{1}, {{4}, {128}}}}), InputError,
                        "request 1 option 1");
  UPM_EXPECT_THROW_WITH(score_options(*model, {{{}, {{3}}}}), InputError, "request 0 context");
  UPM_EXPECT_THROW_WITH(score_options(*model, {{{1}, {{}}}}), InputError, "request 0 option 0");
}

}  // namespace
}  // namespace upm::test
