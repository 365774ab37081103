#include "upm/train/rl_reward.h"

#include <cmath>
#include <set>

#include "upm/train/dynamic_sampling.h"
#include "upm/train/grpo_config.h"
#include "upm/train/rl_episode.h"
#include "upm/train/rl_stats.h"

#include "test_util.h"

namespace {

using upm::RewardConfig;

TEST(PolicyOutput, ParsesThinkThenProfile) {
  auto out = upm::parse_policy_output("  <think>likes heist films\n</think>\n\nEnjoys crime thrillers.  ");
  ASSERT_TRUE(out.well_formed) << out.problem;
  EXPECT_EQ(out.reasoning, "likes heist films");
  EXPECT_EQ(out.profile, "Enjoys crime thrillers.");
}

TEST(PolicyOutput, MalformedOutputsNameTheProblem) {
  EXPECT_EQ(upm::parse_policy_output("Enjoys crime.").problem, "output must start with <think>");
  EXPECT_EQ(upm::parse_policy_output("<think>never closed").problem, "<think> is never closed");
  EXPECT_EQ(upm::parse_policy_output("<think>a<think>b</think>p").problem, "nested <think>");
  EXPECT_EQ(upm::parse_policy_output("<think>a</think>   ").problem, "empty profile");
  EXPECT_EQ(upm::parse_policy_output("<think>a</think>p</think>").problem, "think tags after the profile");
  EXPECT_FALSE(upm::parse_policy_output("").well_formed);
}

TEST(PolicyOutput, BareProfileAcceptedWhenThinkNotRequired) {
  auto out = upm::parse_policy_output("Enjoys crime.", /*require_think=*/false);
  EXPECT_TRUE(out.well_formed);
  EXPECT_EQ(out.profile, "Enjoys crime.");
}

TEST(RlReward, CombinesPredictorAndLengthTerms) {
  RewardConfig c;
  c.length_weight = 0.5;
  c.min_profile_tokens = 10;
  c.max_profile_tokens = 100;
  auto inside = upm::combine_reward({0.9, 0.5, 0.7}, 50, c);
  EXPECT_NEAR(inside.predictor, 0.7, 1e-12);
  EXPECT_EQ(inside.length, 0.0);
  EXPECT_NEAR(inside.total, 0.7, 1e-12);
  auto long_one = upm::combine_reward({1.0}, 150, c);
  EXPECT_NEAR(long_one.length, -0.5, 1e-12);
  EXPECT_NEAR(long_one.total, 1.0 - 0.25, 1e-12);
  EXPECT_NEAR(upm::length_term(4, c), -0.06, 1e-12);
}

TEST(RlReward, MalformedGetsFormatPenaltyOnly) {
  RewardConfig c;
  c.format_penalty = -0.5;
  auto terms = upm::malformed_reward(c);
  EXPECT_EQ(terms.total, -0.5);
  EXPECT_EQ(terms.predictor, 0.0);
}

TEST(RlReward, StreamingCreditFavoursTheSeedingSample) {
  RewardConfig c;  // 0.9 / 0.45, as AlignXplore+
  std::vector<upm::RewardTerms> stage1(3);
  for (auto& t : stage1) t.total = 0.5;
  upm::add_streaming_credit(stage1, 1, 0.8, c);
  EXPECT_NEAR(stage1[1].total, 0.5 + 0.72, 1e-12);
  EXPECT_NEAR(stage1[0].total, 0.5 + 0.36, 1e-12);
  EXPECT_NEAR(stage1[2].streaming, 0.36, 1e-12);
  EXPECT_THROW(upm::add_streaming_credit(stage1, 3, 0.8, c), upm::Error);
}

TEST(RlReward, ConstantStreamingCreditIsThePublishedRule) {
  RewardConfig c;
  c.streaming_credit = "constant";  // others earn 0.45 whatever stage 2 scored
  std::vector<upm::RewardTerms> stage1(3);
  upm::add_streaming_credit(stage1, 0, 0.2, c);
  EXPECT_NEAR(stage1[0].streaming, 0.18, 1e-12);
  EXPECT_NEAR(stage1[1].streaming, 0.45, 1e-12);
  EXPECT_NEAR(stage1[2].total, 0.45, 1e-12);
}

TEST(RlReward, SoftOverlongPunishmentByHand) {
  RewardConfig c;
  EXPECT_EQ(upm::overlong_term(100, 100, c), 0.0);  // off by default
  c.overlong_buffer_tokens = 20;
  c.overlong_penalty = 0.5;
  EXPECT_EQ(upm::overlong_term(80, 100, c), 0.0);              // up to max - buffer: free
  EXPECT_NEAR(upm::overlong_term(85, 100, c), -0.125, 1e-12);  // 0.5 x 5 / 20
  EXPECT_NEAR(upm::overlong_term(100, 100, c), -0.5, 1e-12);   // at the cap: the whole penalty
  upm::RewardTerms terms;
  terms.total = 1.0;
  upm::add_overlong_term(terms, 90, 100, c);
  EXPECT_NEAR(terms.overlong, -0.25, 1e-12);
  EXPECT_NEAR(terms.total, 0.75, 1e-12);
}

TEST(RlReward, ConfigValidation) {
  UPM_EXPECT_THROW_WITH(upm::config_from_json<RewardConfig>({{"min_profile_tokens", 600}}, "rl.json"), upm::InputError,
                        "min_profile_tokens: must be <= max_profile_tokens");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<RewardConfig>({{"predictor_reward", "prob"}}, "rl.json"), upm::InputError,
                        "predictor_reward: must be one of {confidence, accuracy}");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<RewardConfig>({{"kl_estimator", "kl"}}, "rl.json"), upm::InputError,
                        "kl_estimator: must be one of {k1, k2, k3}");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<RewardConfig>({{"kl_coef", -0.1}}, "rl.json"), upm::InputError,
                        "kl_coef");
  EXPECT_EQ(RewardConfig{}.kl_coef, 0.0);  // KL in the reward is off unless asked for
}

}  // namespace

namespace {

// Two groups of 3: the first scores the same for every sample (no learning
// signal), the second spreads; samples 0 and 1 share their tokens.
upm::EpisodeBatch two_groups() {
  upm::EpisodeBatch b;
  b.prompts = {{1}, {2}};
  b.tasks.resize(2);
  const std::vector<std::vector<int64_t>> tokens{{5, 6}, {5, 6}, {7}, {8}, {9}, {10}};
  b.rewards = {0.5, 0.5, 0.5, 0.0, 0.3, 0.9};
  for (size_t i = 0; i < tokens.size(); ++i) {
    upm::RolloutSample s;
    s.group = int64_t(i / 3);
    s.tokens = tokens[i];
    b.samples.push_back(s);
    upm::ScoredOutput o;
    o.terms.total = b.rewards[i];
    b.scored.push_back(o);
  }
  return b;
}

}  // namespace

TEST(RlStats, GroupMetricsCountGroupsWithoutSignalAndRepeatedSamples) {
  upm::RlSums sums;
  sums.add(two_groups());
  const nlohmann::json m = sums.metrics();
  EXPECT_NEAR(m.at("frac_reward_zero_std").get<double>(), 0.5, 1e-12);
  // Population std of {0, 0.3, 0.9} is sqrt(0.14); the first group's is 0.
  EXPECT_NEAR(m.at("group_reward_std").get<double>(), std::sqrt(0.14) / 2.0, 1e-12);
  // Group 1: 2 distinct of 3; group 2: 3 of 3.
  EXPECT_NEAR(m.at("distinct_samples").get<double>(), (2.0 / 3.0 + 1.0) / 2.0, 1e-12);
  EXPECT_NEAR(m.at("reward_mean").get<double>(), 2.7 / 6.0, 1e-12);
}

// Zero spread = no two valid rewards differ; NaN rewards are ignored as
// group_advantages ignores them.
TEST(DynamicSampling, GroupsWithSpreadByHand) {
  const double nan = std::nan("");
  const std::vector<double> rewards{
      0.5, 0.5, 0.5,         // all equal: dropped
      0.0, 0.3, 0.9,         // kept
      1.0, nan, 1.0,         // equal once the NaN is left out: dropped
      nan, 0.2, 0.3,         // kept
      nan, nan, 0.7,         // one valid reward: zero advantage, dropped
      nan, nan, nan,         // dropped
      0.1, 0.1, 0.1 + 1e-9,  // any difference is a spread
  };
  EXPECT_EQ(upm::groups_with_spread(rewards, 3), (std::vector<bool>{false, true, false, true, false, false, true}));
  EXPECT_THROW(upm::groups_with_spread({1.0, 2.0, 3.0}, 2), upm::Error);
}

TEST(DynamicSampling, FirstFlaggedKeepsTheFirstLimitTrueEntries) {
  const std::vector<bool> flags{false, true, true, false, true, true};
  EXPECT_EQ(upm::first_flagged(flags, 2), (std::vector<bool>{false, true, true, false, false, false}));
  EXPECT_EQ(upm::first_flagged(flags, 10), flags);
  EXPECT_EQ(upm::first_flagged(flags, 0), std::vector<bool>(6, false));
}

TEST(DynamicSampling, AppendGroupsRenumbersTheKeptGroupsAndAddsTheCounters) {
  upm::EpisodeBatch into = two_groups();  // groups 0 and 1
  upm::EpisodeBatch from = two_groups();
  from.prompts = {{3}, {4}};
  from.judge_requests = 5;
  from.generated_tokens = 7;
  into.judge_requests = 1;
  upm::append_groups(into, std::move(from), {false, true}, 3);
  ASSERT_EQ(into.prompts.size(), 3u);
  EXPECT_EQ(into.prompts[2], std::vector<int64_t>{4});
  ASSERT_EQ(into.samples.size(), 9u);
  for (size_t k = 6; k < 9; ++k) EXPECT_EQ(into.samples[k].group, 2);
  EXPECT_EQ(into.samples[6].tokens, std::vector<int64_t>{8});
  EXPECT_EQ(into.rewards, (std::vector<double>{0.5, 0.5, 0.5, 0.0, 0.3, 0.9, 0.0, 0.3, 0.9}));
  EXPECT_EQ(into.scored.size(), 9u);
  EXPECT_EQ(into.judge_requests, 6);
  EXPECT_EQ(into.generated_tokens, 7);
  EXPECT_THROW(upm::append_groups(into, two_groups(), {true}, 3), upm::Error);
}

TEST(DynamicSampling, RefillUsersAreASeededDrawOfDistinctUsers) {
  const auto a = upm::draw_users(10, 4, 7), b = upm::draw_users(10, 4, 7), c = upm::draw_users(10, 4, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 4u);
  for (int64_t u : a) EXPECT_TRUE(u >= 0 && u < 10);
  EXPECT_THROW(upm::draw_users(3, 4, 7), upm::Error);
}

TEST(DynamicSampling, ConfigIsOffByDefaultAndValidated) {
  const auto c = upm::config_from_json<upm::DynamicSamplingConfig>(nlohmann::json::object(), "rl.json");
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.max_rounds, 3);
  UPM_EXPECT_THROW_WITH(upm::config_from_json<upm::DynamicSamplingConfig>({{"max_rounds", -1}}, "rl.json"),
                        upm::InputError, "max_rounds");
  EXPECT_THROW(upm::config_from_json<upm::DynamicSamplingConfig>({{"max_num_gen_batches", 2}}, "rl.json"),
               upm::InputError);
}

// reward_tasks "next": each stage is rewarded on its first task in file order.
TEST(RewardTasks, NextIsTheFirstTaskOfTheStageAndSampleIsTheSeededPick) {
  std::vector<upm::data::BenchmarkTask> tasks(4);
  for (size_t i = 0; i < tasks.size(); ++i) tasks[i].task_id = "t" + std::to_string(i);
  const auto next = upm::reward_tasks(tasks, true, 0, 7);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task_id, "t0");
  EXPECT_TRUE(upm::reward_tasks({}, true, 0, 7).empty());
  const auto sampled = upm::reward_tasks(tasks, false, 2, 7), picked = upm::pick_tasks(tasks, 2, 7);
  ASSERT_EQ(sampled.size(), 2u);
  for (size_t i = 0; i < sampled.size(); ++i) EXPECT_EQ(sampled[i].task_id, picked[i].task_id);
  EXPECT_EQ(upm::reward_tasks(tasks, false, 0, 7).size(), 4u);
}

TEST(RewardTasks, ConfigAcceptsSampleOrNextAndRefusesNextWithATaskLimit) {
  nlohmann::json data = {{"users", "u.jsonl"}, {"tasks", "t.jsonl"}};
  EXPECT_EQ(upm::config_from_json<upm::RlDataConfig>(data, "rl.json").reward_tasks, "sample");
  data["reward_tasks"] = "next";
  EXPECT_EQ(upm::config_from_json<upm::RlDataConfig>(data, "rl.json").reward_tasks, "next");
  data["max_tasks_per_user"] = 2;
  UPM_EXPECT_THROW_WITH(upm::config_from_json<upm::RlDataConfig>(data, "rl.json"), upm::InputError,
                        "max_tasks_per_user");
  data["reward_tasks"] = "first";
  data["max_tasks_per_user"] = 0;
  EXPECT_THROW(upm::config_from_json<upm::RlDataConfig>(data, "rl.json"), upm::InputError);
}
