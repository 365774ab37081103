// GRPO trainer mechanics on a random-init tiny policy (the committed tiny BPE
// tokenizer, the tiny SFT model config): every trainable tensor moves and the
// loss stays finite; a resumed run repeats an uninterrupted one bit for bit;
// malformed outputs never reach the judge; the streaming credit; the remote
// judge's reading of label log-probs; the CLI; dynamic sampling and KL in the
// reward.
#include <gtest/gtest.h>

#include <cmath>

#include "rl_test_judges.h"
#include "rl_test_util.h"
#include "upm/data/prompt_builder.h"
#include "upm/infer/generator.h"
#include "upm/model/lora.h"
#include "upm/model/safetensors.h"
#include "upm/model/weights_loader.h"
#include "upm/infer/language_model.h"
#include "upm/text/tokenizer.h"
#include "upm/train/completion_logprobs.h"
#include "upm/train/grpo_trainer.h"
#include "upm/train/profile_judge.h"
#include "upm/train/profile_reward.h"
#include "upm/train/remote_judge.h"
#include "upm/train/rollout.h"

namespace upm::test {
namespace {

// A random policy that is also its own (random) judge: any non-empty output
// is a profile (require_think off), so rewards differ between samples.
GrpoConfig random_policy_config(const TempDir& dir) {
  const std::string model = random_model_dir(dir.path(), 3);
  GrpoConfig c = topic_rl_config(dir.path(), model, model, 8, 0);
  c.reward.require_think = false;
  c.generation.max_new_tokens = 8;
  c.group_size = 3;
  c.users_per_step = 4;
  c.optimizer.lr = 1e-2;
  c.max_steps = 1;
  return c;
}

std::map<std::string, torch::Tensor> weights_of(const std::string& dir) {
  std::map<std::string, torch::Tensor> out;
  for (const char* file : {"model.safetensors", "adapter_model.safetensors"}) {
    if (!std::filesystem::exists(dir + "/" + file)) continue;
    SafetensorsFile f(dir + "/" + file);
    for (const auto& [name, entry] : f.header().tensors) out[name] = f.tensor(name).clone();
  }
  return out;
}

void expect_every_tensor_changed(const std::map<std::string, torch::Tensor>& before,
                                 const std::map<std::string, torch::Tensor>& after) {
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, t] : before) {
    EXPECT_FALSE(torch::equal(t, after.at(name))) << name << " did not change";
  }
}

void expect_finite_losses(const std::string& run_dir) {
  for (const auto& line : read_json_lines(run_dir + "/metrics.jsonl")) {
    if (!line.contains("loss")) continue;
    EXPECT_TRUE(std::isfinite(line["loss"].get<double>()));
    EXPECT_TRUE(std::isfinite(line["kl"].get<double>()));
  }
}

TEST(GrpoTrainer, TinyPolicyGroupOf3ChangesEveryParameterWithFiniteLoss) {
  TempDir dir;
  GrpoConfig c = random_policy_config(dir);
  c.loss.kl_beta = 0.1;  // the reference copy is loaded and used
  auto before = weights_of(c.policy);
  GrpoResult r = run_grpo(c);
  EXPECT_EQ(r.steps, 1);
  expect_every_tensor_changed(before, weights_of(r.output_dir));
  expect_finite_losses(c.run_dir);
}

// DAPO's overlong filtering: with 8 new tokens and no stop string, a random
// policy's samples are all cut by the cap; masked, none of them moves a
// weight, and the metrics say every sample was truncated.
TEST(GrpoTrainer, MaskedTruncatedSamplesLeaveThePolicyUnchanged) {
  TempDir dir;
  GrpoConfig c = random_policy_config(dir);
  c.generation.stop_at_eos = false;
  c.loss.mask_truncated = true;
  auto before = weights_of(c.policy);
  GrpoResult r = run_grpo(c);
  EXPECT_EQ(r.steps, 1);
  const auto after = weights_of(r.output_dir);
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, t] : before) EXPECT_TRUE(torch::equal(t, after.at(name))) << name << " moved";
  const auto lines = read_json_lines(c.run_dir + "/metrics.jsonl");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front().at("truncated").get<double>(), 1.0);
}

TEST(GrpoTrainer, LoraAdaptersAllTrainAgainstTheBaseAsReference) {
  TempDir dir;
  GrpoConfig c = random_policy_config(dir);
  c.lora.enabled = true;
  c.loss.kl_beta = 0.1;
  c.max_steps = 2;  // B starts at zero: A gets a gradient from the second step on
  GrpoResult r = run_grpo(c);
  auto after = weights_of(r.output_dir);
  ASSERT_FALSE(after.empty());
  for (const auto& [name, t] : after) {
    if (name.find("lora_B") != std::string::npos) EXPECT_GT(t.abs().max().item<double>(), 0.0) << name;
  }
  // The base folder is untouched and the adapter's A moved away from its seeded init.
  TempDir again;
  GrpoConfig one = random_policy_config(again);
  one.lora.enabled = true;
  one.max_steps = 1;
  one.optimizer.lr = 1e-12;
  auto init = weights_of(run_grpo(one).output_dir);
  for (const auto& [name, t] : after) {
    if (name.find("lora_A") != std::string::npos) EXPECT_FALSE(torch::equal(t, init.at(name))) << name;
  }
  expect_finite_losses(c.run_dir);
}

// Metrics without the wall-clock fields.
std::vector<nlohmann::json> stable_metrics(const std::string& run_dir) {
  std::vector<nlohmann::json> out;
  for (auto line : read_json_lines(run_dir + "/metrics.jsonl")) {
    for (const char* key : {"rollout_s", "reward_s", "optim_s", "step_time_s", "rollout_tokens_per_s"}) line.erase(key);
    out.push_back(line);
  }
  return out;
}

TEST(GrpoTrainer, ResumedRunRepeatsTheUninterruptedOneBitForBit) {
  TempDir a, b;
  GrpoConfig whole = random_policy_config(a);
  whole.max_steps = 4;
  whole.ppo_epochs = 2;
  whole.minibatches = 2;
  whole.loss.kl_beta = 0.05;
  GrpoResult full = run_grpo(whole);

  GrpoConfig staged = whole;
  staged.run_dir = b.path() + "/run";
  GrpoRunOptions first;
  first.stop_after_steps = 2;
  EXPECT_EQ(run_grpo(staged, first).steps, 2);
  GrpoRunOptions second;
  second.resume = true;
  GrpoResult resumed = run_grpo(staged, second);
  EXPECT_EQ(resumed.steps, 4);
  EXPECT_EQ(stable_metrics(whole.run_dir), stable_metrics(staged.run_dir));
  auto x = weights_of(full.output_dir), y = weights_of(resumed.output_dir);
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, t] : x) EXPECT_TRUE(torch::equal(t, y.at(name))) << name;
}

bool any_tensor_changed(const std::map<std::string, torch::Tensor>& before,
                        const std::map<std::string, torch::Tensor>& after) {
  for (const auto& [name, t] : before) {
    if (!torch::equal(t, after.at(name))) return true;
  }
  return false;
}

// Dynamic sampling where every reward is 0 (the judge's term weighs nothing
// and a malformed output costs nothing): every round finds only zero-spread
// groups, so the step runs all 1 + max_rounds rounds and trains on nothing.
// The entropy bonus alone moves the weights without dynamic sampling, so
// weights that stay put show that the groups left the update.
TEST(GrpoDynamicSampling, EqualRewardsRunEveryRoundAndLeaveThePolicyUnchanged) {
  auto flat = [](const TempDir& dir) {
    GrpoConfig c = random_policy_config(dir);
    c.reward.predictor_weight = 0.0;
    c.reward.format_penalty = 0.0;
    c.loss.entropy_coef = 0.05;
    return c;
  };
  TempDir a, b;
  GrpoConfig off = flat(a);
  EXPECT_TRUE(any_tensor_changed(weights_of(off.policy), weights_of(run_grpo(off).output_dir)));
  const nlohmann::json off_line = read_json_lines(off.run_dir + "/metrics.jsonl").front();
  EXPECT_FALSE(off_line.contains("rollout_rounds"));

  GrpoConfig on = flat(b);
  on.dynamic_sampling.enabled = true;
  on.dynamic_sampling.max_rounds = 2;
  const auto before = weights_of(on.policy);
  const auto after = weights_of(run_grpo(on).output_dir);
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, t] : before) EXPECT_TRUE(torch::equal(t, after.at(name))) << name << " moved";
  const nlohmann::json line = read_json_lines(on.run_dir + "/metrics.jsonl").front();
  EXPECT_EQ(line.at("rollout_rounds").get<int64_t>(), 3);
  EXPECT_EQ(line.at("groups_kept").get<int64_t>(), 0);
  EXPECT_EQ(line.at("groups_dropped").get<int64_t>(), 3 * on.users_per_step);
  EXPECT_EQ(line.at("updates").get<int64_t>(), 0);
  EXPECT_EQ(line.at("frac_reward_zero_std").get<double>(), 1.0);
}

// When the first round's groups all have a spread, dynamic sampling keeps
// them all and the run is the one without it, bit for bit; the defaults
// (dynamic sampling and KL in the reward off) add no metric.
TEST(GrpoDynamicSampling, KeepingEveryGroupTrainsExactlyAsWithout) {
  TempDir a, b;
  GrpoConfig off = random_policy_config(a);
  off.max_steps = 2;
  GrpoConfig on = random_policy_config(b);
  on.max_steps = 2;
  on.dynamic_sampling.enabled = true;
  const auto x = weights_of(run_grpo(off).output_dir), y = weights_of(run_grpo(on).output_dir);
  auto with = stable_metrics(on.run_dir), without = stable_metrics(off.run_dir);
  ASSERT_EQ(with.size(), without.size());
  for (size_t i = 0; i < with.size(); ++i) {
    if (!with[i].contains("loss")) continue;  // eval lines
    EXPECT_EQ(with[i].at("rollout_rounds").get<int64_t>(), 1);
    EXPECT_EQ(with[i].at("groups_kept").get<int64_t>(), on.users_per_step);
    EXPECT_EQ(with[i].at("groups_dropped").get<int64_t>(), 0);
    for (const char* key : {"rollout_rounds", "groups_kept", "groups_dropped"}) with[i].erase(key);
    EXPECT_FALSE(without[i].contains("reward_kl"));
  }
  EXPECT_EQ(with, without);
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, t] : x) EXPECT_TRUE(torch::equal(t, y.at(name))) << name;
}

// A judge that gives even-numbered users the same reward for every sample:
// their groups are dropped and refill rounds over seeded draws of the 8
// users bring the step back to users_per_step groups with a spread.
TEST(GrpoDynamicSampling, RefillRoundsFillTheBatchWithGroupsThatHaveASpread) {
  TempDir dir;
  GrpoConfig c = random_policy_config(dir);
  c.reward.format_penalty = 0.0;  // = the flat users' reward
  c.dynamic_sampling.enabled = true;
  c.dynamic_sampling.max_rounds = 6;
  c.max_steps = 2;
  EvenUsersFlatJudge judge;
  GrpoRunOptions options;
  options.judge = &judge;
  auto before = weights_of(c.policy);
  GrpoResult r = run_grpo(c, options);
  EXPECT_TRUE(any_tensor_changed(before, weights_of(r.output_dir)));
  bool refilled = false;
  for (const auto& line : read_json_lines(c.run_dir + "/metrics.jsonl")) {
    if (!line.contains("loss")) continue;
    const int64_t rounds = line.at("rollout_rounds").get<int64_t>();
    EXPECT_EQ(line.at("groups_kept").get<int64_t>(), c.users_per_step);
    EXPECT_EQ(line.at("groups_dropped").get<int64_t>(), rounds * c.users_per_step - c.users_per_step);
    EXPECT_GT(line.at("frac_reward_zero_std").get<double>(), 0.0);
    refilled = refilled || rounds > 1;
  }
  EXPECT_TRUE(refilled);
}

// KL in the reward, full fine-tuning and LoRA (kl_beta 0, so the reference is
// loaded for the reward alone): with recomputed old log-probs the first step's
// policy is the reference, so the penalty is exactly 0; after one update it
// is positive (k3 >= 0) and the update reports its KL.
TEST(GrpoKlInReward, PenaltyIsZeroOnTheReferenceAndPositiveOnceThePolicyMoved) {
  for (bool lora : {false, true}) {
    SCOPED_TRACE(lora ? "lora" : "full");
    TempDir dir;
    GrpoConfig c = random_policy_config(dir);
    c.lora.enabled = lora;
    c.reward.kl_coef = 0.1;
    c.reward.kl_estimator = "k3";
    c.old_logprobs = "recompute";
    c.max_steps = 2;
    run_grpo(c);
    std::vector<nlohmann::json> steps;
    for (const auto& line : read_json_lines(c.run_dir + "/metrics.jsonl")) {
      if (line.contains("loss")) steps.push_back(line);
    }
    ASSERT_EQ(int64_t(steps.size()), c.max_steps);
    EXPECT_EQ(steps.front().at("reward_kl").get<double>(), 0.0);
    EXPECT_GT(steps.back().at("reward_kl").get<double>(), 0.0);
    EXPECT_GT(steps.back().at("kl").get<double>(), 0.0);
    EXPECT_FALSE(steps.back().contains("rollout_rounds"));
  }
}

// Delegates to a real judge and records what it was shown.
class RecordingJudge : public ProfileJudge {
 public:
  explicit RecordingJudge(ProfileJudge& inner) : inner_(inner) {}
  std::vector<Prediction> judge(const std::vector<PredictRequest>& requests, uint64_t seed) override {
    for (const auto& r : requests) profiles.push_back(r.profile);
    return inner_.judge(requests, seed);
  }
  std::vector<std::string> profiles;

 private:
  ProfileJudge& inner_;
};

TEST(GrpoReward, MalformedOutputsGetThePenaltyAndNeverReachTheJudge) {
  TempDir dir;
  LanguageModel lm = load_language_model(random_model_dir(dir.path(), 4), ModelRuntime{});
  LocalJudge local(lm, PredictorConfig{}, rl_prompt_config());
  RecordingJudge judge(local);
  TopicWorld world = make_topic_world(1, 5, "u");
  RewardConfig config;
  config.format_penalty = -0.7;
  std::vector<RewardInput> inputs;
  for (const char* text : {"<think>a</think> likes art", "no think block", "<think>never closed",
                           "<think>b</think> food", "<think>c</think>   "}) {
    inputs.push_back({text, &world.tasks});
  }
  auto scored = score_outputs(inputs, judge, config, *lm.tokenizer, 9);
  ASSERT_EQ(scored.size(), 5u);
  const std::vector<bool> ok{true, false, false, true, false};
  for (size_t i = 0; i < ok.size(); ++i) {
    EXPECT_EQ(scored[i].well_formed, ok[i]) << i;
    if (ok[i]) {
      EXPECT_EQ(scored[i].tasks_judged, int64_t(world.tasks.size()));
      EXPECT_GT(scored[i].terms.predictor, 0.0);
      EXPECT_LT(scored[i].terms.predictor, 1.0);
      EXPECT_DOUBLE_EQ(scored[i].terms.format, 0.0);
    } else {
      EXPECT_EQ(scored[i].tasks_judged, 0);
      EXPECT_DOUBLE_EQ(scored[i].terms.total, -0.7);
    }
  }
  ASSERT_EQ(judge.profiles.size(), 2 * world.tasks.size());
  for (size_t i = 0; i < world.tasks.size(); ++i) EXPECT_EQ(judge.profiles[i], "likes art");
  for (size_t i = world.tasks.size(); i < judge.profiles.size(); ++i) EXPECT_EQ(judge.profiles[i], "food");
}

TEST(GrpoRollout, StreamingStageOneEarnsTheShareOfStageTwoReward) {
  TempDir dir;
  LanguageModel lm = load_language_model(random_model_dir(dir.path(), 5), ModelRuntime{});
  LocalJudge judge(lm, PredictorConfig{}, rl_prompt_config());
  data::PromptBuilder prompts(rl_prompt_config(), [&](std::string_view t) { return lm.tokenizer->count_tokens(t); });
  TopicWorld world = make_topic_world(2, 6, "u");
  std::vector<RlUser> users(2);
  for (size_t u = 0; u < 2; ++u) {
    users[u].user_id = world.logs[u].user_id;
    users[u].stage1_events = {world.logs[u].events[0]};
    users[u].stage2_events = {world.logs[u].events[1], world.logs[u].events[2]};
    for (const auto& t : world.tasks) {
      if (t.user_id == users[u].user_id) users[u].stage1_tasks.push_back(t), users[u].stage2_tasks.push_back(t);
    }
  }
  Generator generator(*lm.model, lm.tokenizer.get());
  EpisodeSettings settings;
  settings.group_size = 3;
  settings.generation.max_new_tokens = 6;
  settings.streaming = true;
  RewardConfig reward;
  reward.require_think = false;
  EpisodeBatch batch = run_episodes({generator, lm, prompts}, {&users[0], &users[1]}, {0, 1}, judge, reward, settings);
  ASSERT_EQ(batch.samples.size(), 12u);  // 2 users x (3 stage-1 + 3 stage-2)
  for (size_t u = 0; u < 2; ++u) {
    double stage2_mean = 0;
    for (size_t g = 0; g < 3; ++g) stage2_mean += batch.rewards[(2 + u) * 3 + g] / 3.0;
    int seeds = 0, others = 0;
    for (size_t g = 0; g < 3; ++g) {
      const RewardTerms& t = batch.scored[u * 3 + g].terms;
      EXPECT_EQ(batch.samples[u * 3 + g].stage, 1);
      EXPECT_NEAR(t.total, t.predictor + t.streaming, 1e-12);
      if (std::abs(t.streaming - 0.9 * stage2_mean) < 1e-12) ++seeds;
      if (std::abs(t.streaming - 0.45 * stage2_mean) < 1e-12) ++others;
    }
    EXPECT_EQ(seeds, 1);
    EXPECT_EQ(others, 2);
  }
}

TEST(RemoteJudge, ReadsOptionLabelLogprobsFromTheFirstTokenAndMapsThemBack) {
  openai::ChatResponse response;
  openai::ChatChoice choice;
  openai::TokenLogprob first;
  first.token = "B";
  first.logprob = -0.3;
  first.top_logprobs = {{"B", -0.3}, {" A", -1.5}, {"Item", -2.0}, {"C", -4.0}};
  choice.logprobs = {first};
  response.choices = {choice};
  // Shown order: original option 2 as "Item A", 0 as "Item B", 1 as "Item C".
  Prediction p = prediction_from_top_logprobs(response, {2, 0, 1}, /*label=*/0, -30.0, "test");
  ASSERT_EQ(p.scores.size(), 3u);
  EXPECT_DOUBLE_EQ(p.scores[2], -1.5);  // shown A
  EXPECT_DOUBLE_EQ(p.scores[0], -0.3);  // shown B
  EXPECT_DOUBLE_EQ(p.scores[1], -4.0);  // shown C
  const double z = std::exp(-1.5) + std::exp(-0.3) + std::exp(-4.0);
  EXPECT_NEAR(p.p_correct, std::exp(-0.3) / z, 1e-12);
  EXPECT_EQ(p.choice, 0);
  EXPECT_TRUE(p.correct);

  // A label missing from the top alternatives gets the floor.
  response.choices[0].logprobs[0].top_logprobs = {{"B", -0.3}};
  Prediction q = prediction_from_top_logprobs(response, {0, 1}, 0, -30.0, "test");
  EXPECT_DOUBLE_EQ(q.scores[0], -30.0);
  EXPECT_DOUBLE_EQ(q.scores[1], -0.3);
  EXPECT_FALSE(q.correct);

  response.choices[0].logprobs.clear();
  UPM_EXPECT_THROW_WITH(prediction_from_top_logprobs(response, {0, 1}, 0, -30.0, "endpoint X"), InputError,
                        "endpoint X");
  openai::ChatRequest request = judge_request("prompt");
  EXPECT_EQ(request.max_tokens, 1);
  EXPECT_TRUE(request.logprobs);
  EXPECT_EQ(request.top_logprobs, 20);
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0].role, "user");
  EXPECT_EQ(request.enable_thinking, std::optional<bool>(false));
}

// The RL judge reads the remote keys of upm-eval's remote predictors
// (infer/remote_predictor.h): resolved client settings, --set into them, and
// the same checks naming the file and field.
TEST(RemoteJudge, ConfigReadsTheRemotePredictorKeys) {
  nlohmann::json j = {{"run_dir", "r"},
                      {"policy", "p"},
                      {"data", {{"users", "u.jsonl"}, {"tasks", "t.jsonl"}}},
                      {"predictor",
                       {{"kind", "remote"},
                        {"remote", {{"base_url", "http://127.0.0.1:9/v1"}, {"model", "judge"}}},
                        {"missing_label_logprob", -25.0}}}};
  const GrpoConfig c = config_from_json<GrpoConfig>(j, "rl.json", {"predictor.remote.concurrency=8"});
  EXPECT_EQ(c.predictor.endpoint.remote.at("concurrency"), 8);
  EXPECT_EQ(c.predictor.endpoint.remote.at("max_retries"), 3);  // the client's default, resolved
  EXPECT_DOUBLE_EQ(c.predictor.endpoint.missing_label_logprob, -25.0);
  j["predictor"]["remote"]["base_url"] = "127.0.0.1:9";
  j["predictor"]["predictor"] = {{"mode", "continuation"}};
  try {
    config_from_json<GrpoConfig>(j, "rl.json");
    ADD_FAILURE() << "a continuation-mode remote judge with a bad URL was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("rl.json: predictor.predictor.mode"), std::string::npos) << message;
    EXPECT_NE(message.find("rl.json: predictor.remote.base_url"), std::string::npos) << message;
  }
}

TEST(GrpoTool, RunsFromAConfigFileAndRejectsUnknownKeys) {
  TempDir dir;
  GrpoConfig c = random_policy_config(dir);
  c.max_steps = 2;
  const std::string config_path = dir.file("rl.json");
  write_file_atomic(config_path, config_to_json(c).dump(2));
  ToolResult ok = run_tool("upm-train", "rl --config " + config_path + " --set max_steps=1");
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_EQ(read_json_lines(c.run_dir + "/metrics.jsonl").size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(c.run_dir + "/final/model.safetensors"));
  ToolResult bad = run_tool("upm-train", "rl --config " + config_path + " --set loss.klbeta=1");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("loss.klbeta"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace upm::test

namespace upm::test {
namespace {

// The training-time log-probs (one right-padded pass, autograd on) equal the
// sampler's, so the first importance ratio is 1 up to kernel rounding.
TEST(CompletionLogprobs, EqualTheSamplersLogprobsOfTheSameTokens) {
  TempDir dir;
  LanguageModel lm = load_language_model(random_model_dir(dir.path(), 8), ModelRuntime{});
  Generator generator(*lm.model, lm.tokenizer.get());
  GenerationConfig config;
  config.max_new_tokens = 7;
  config.sampling.seed = 4;
  std::vector<std::vector<int64_t>> prompts{{856, 40, 41, 42, 43, 44}, {856, 70}};
  auto outs = generator.generate_groups(prompts, 2, config);
  std::vector<CompletionRef> rows;
  for (size_t i = 0; i < outs.size(); ++i) rows.push_back({&prompts[i / 2], &outs[i].tokens});
  CompletionLogprobs lp = completion_logprobs(*lm.model, rows, true);
  for (size_t i = 0; i < outs.size(); ++i) {
    for (size_t j = 0; j < outs[i].tokens.size(); ++j) {
      EXPECT_NEAR(lp.logprobs[int64_t(i)][int64_t(j)].item<float>(), outs[i].logprobs[j], 1e-4) << i << "," << j;
      EXPECT_EQ(lp.mask[int64_t(i)][int64_t(j)].item<float>(), 1.0f);
    }
    for (int64_t j = int64_t(outs[i].tokens.size()); j < lp.mask.size(1); ++j)
      EXPECT_EQ(lp.mask[int64_t(i)][j].item<float>(), 0.0f);
  }
  EXPECT_TRUE(lp.logprobs.requires_grad());
}

// Samples of one prompt are packed into one row (the prompt computed once):
// log-probs, entropies and gradients equal those of each prompt + completion
// run alone through the model's plain forward. Covers a group of three, a
// prompt equal in content but stored apart, a one-token and an empty
// completion, and rows of different prompts interleaved.
TEST(CompletionLogprobs, PackedGroupsEqualEachSampleRunAloneWithGradients) {
  TempDir dir;
  LanguageModel lm = load_language_model(random_model_dir(dir.path(), 8), ModelRuntime{});
  CausalLM& model = *lm.model;
  const std::vector<int64_t> p1{856, 40, 41, 42, 43, 44, 45}, p1_copy = p1, p2{856, 70, 71};
  const std::vector<std::vector<int64_t>> completions{{50, 51, 52, 53}, {60}, {61, 62}, {}, {63, 64, 65}, {66, 67}};
  const std::vector<const std::vector<int64_t>*> prompts{&p1, &p2, &p1, &p2, &p1_copy, &p2};
  std::vector<CompletionRef> rows;
  for (size_t i = 0; i < completions.size(); ++i) rows.push_back({prompts[i], &completions[i]});

  // The reference: each row alone, logits at every position.
  torch::Tensor weights = torch::rand({int64_t(rows.size()), 4});
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters()) params.push_back(p);
  auto grads_of = [&](const torch::Tensor& loss) {
    model.zero_grad();
    loss.backward();
    std::vector<torch::Tensor> out;
    for (auto& p : params) out.push_back(p.grad().clone());
    return out;
  };
  torch::Tensor reference = torch::zeros({int64_t(rows.size()), 4});
  torch::Tensor reference_entropy = torch::zeros({int64_t(rows.size()), 4});
  torch::Tensor loss_ref = torch::zeros({});
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& c = completions[i];
    if (c.empty()) continue;
    std::vector<int64_t> ids = *prompts[i];
    ids.insert(ids.end(), c.begin(), c.end());
    ForwardInput in;
    in.input_ids = torch::tensor(ids).view({1, -1});
    torch::Tensor logp = torch::log_softmax(model.forward(in).logits[0], -1);
    const int64_t P = int64_t(prompts[i]->size());
    for (size_t j = 0; j < c.size(); ++j) {
      torch::Tensor v = logp[P - 1 + int64_t(j)][c[j]];
      loss_ref = loss_ref + v * weights[int64_t(i)][int64_t(j)];
      reference[int64_t(i)][int64_t(j)] = v.detach();
      reference_entropy[int64_t(i)][int64_t(j)] =
          -(logp[P - 1 + int64_t(j)].exp() * logp[P - 1 + int64_t(j)]).sum().detach();
    }
  }
  const auto grads_ref = grads_of(loss_ref);

  for (bool share : {true, false}) {
    CompletionLogprobs lp = completion_logprobs(model, rows, true, false, share);
    ASSERT_EQ(lp.logprobs.size(1), 4);
    EXPECT_LE((lp.logprobs.detach() - reference).abs().max().item<double>(), 1e-5) << "share " << share;
    EXPECT_LE(((lp.entropy - reference_entropy) * lp.mask).abs().max().item<double>(), 1e-4) << "share " << share;
    EXPECT_EQ(lp.mask.sum().item<double>(), 12.0);
    const auto grads = grads_of((lp.logprobs * weights).sum());
    for (size_t k = 0; k < params.size(); ++k) {
      const double scale = std::max(1.0, grads_ref[k].abs().max().item<double>());
      EXPECT_LE((grads[k] - grads_ref[k]).abs().max().item<double>() / scale, 1e-4)
          << "param " << k << " share " << share;
    }
  }
}

}  // namespace
}  // namespace upm::test

namespace upm::test {
namespace {

// The LoRA reference: adapters off computes the base model exactly; on again, the adapted one.
TEST(LoraReference, DisabledAdaptersComputeTheBaseModel) {
  TempDir dir;
  const std::string folder = random_model_dir(dir.path(), 9);
  auto base = load_pretrained(folder);
  auto adapted = load_pretrained(folder);
  LoraConfig config;
  config.enabled = true;
  Lora lora(*adapted, config, 1);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : lora.parameters()) p.uniform_(-0.1, 0.1);  // B nonzero: the adapters matter
  }
  ForwardInput in;
  in.input_ids = torch::tensor({856, 40, 41, 42}, torch::kLong).view({1, 4});
  torch::NoGradGuard no_grad;
  const torch::Tensor reference = base->forward(in).logits;
  EXPECT_FALSE(torch::equal(adapted->forward(in).logits, reference));
  lora.set_enabled(false);
  EXPECT_TRUE(torch::equal(adapted->forward(in).logits, reference));
  lora.set_enabled(true);
  EXPECT_FALSE(torch::equal(adapted->forward(in).logits, reference));
}

}  // namespace
}  // namespace upm::test
