#include "upm/train/rollout.h"

#include <chrono>

#include "upm/core/error.h"
#include "upm/infer/generator.h"
#include "upm/infer/sampler.h"
#include "upm/infer/language_model.h"
#include "upm/text/utf8.h"

namespace upm {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Generates G samples for each of `prompt_texts` (one group each) and scores them.
// Returns the index of the first new group.
size_t add_stage(PolicyHandle& policy, const std::vector<std::string>& prompt_texts,
                 std::vector<std::vector<data::BenchmarkTask>> tasks, const std::vector<int64_t>& positions, int stage,
                 ProfileJudge& judge, const RewardConfig& reward, const EpisodeSettings& settings,
                 EpisodeBatch& batch) {
  const size_t first_group = batch.prompts.size();
  const int64_t G = settings.group_size;
  std::vector<std::vector<int64_t>> prompts;
  std::vector<uint64_t> seeds;
  const uint64_t stage_seed = sequence_seed(settings.sampling_seed, uint64_t(stage));
  for (size_t i = 0; i < prompt_texts.size(); ++i) {
    prompts.push_back(encode_prompt(policy.lm, prompt_texts[i]));
    for (int64_t g = 0; g < G; ++g) seeds.push_back(sequence_seed(stage_seed, uint64_t(positions[i] * G + g)));
  }
  auto start = Clock::now();
  std::vector<Generation> outs = policy.generator.generate_groups(prompts, G, settings.generation, seeds);
  batch.rollout_seconds += seconds_since(start);
  batch.generated_tokens += policy.generator.last_stats().generated_tokens;

  for (size_t i = 0; i < prompts.size(); ++i) {
    batch.prompts.push_back(std::move(prompts[i]));
    batch.tasks.push_back(std::move(tasks[i]));
  }
  std::vector<RewardInput> inputs;
  for (size_t s = 0; s < outs.size(); ++s) {
    RolloutSample sample;
    sample.group = int64_t(first_group + s / size_t(G));
    sample.stage = stage;
    sample.tokens = std::move(outs[s].tokens);
    sample.logprobs = std::move(outs[s].logprobs);
    sample.truncated = outs[s].finish_reason == FinishReason::length;
    // Repaired as generate_texts repairs a profile job's text, so that a
    // rollout is rewarded on the text upm-profile would write. The rewards
    // do not move: the tokenizers repair the same way before encoding.
    sample.text = text::utf8_lossy(outs[s].text);
    inputs.push_back({sample.text, &batch.tasks[size_t(sample.group)]});
    batch.samples.push_back(std::move(sample));
  }
  start = Clock::now();
  RewardBatchStats stats;
  size_t sample_index = batch.scored.size();
  for (auto& scored : score_outputs(inputs, judge, reward, *policy.lm.tokenizer, settings.order_seed, &stats)) {
    // DAPO's soft overlong punishment, on the completion's token count.
    add_overlong_term(scored.terms, int64_t(batch.samples[sample_index++].tokens.size()),
                      settings.generation.max_new_tokens, reward);
    batch.rewards.push_back(scored.terms.total);
    batch.scored.push_back(std::move(scored));
  }
  batch.judge_requests += stats.judge_requests;
  batch.reward_seconds += seconds_since(start);
  return first_group;
}

// Which stage-1 sample of a group seeds stage 2: a seeded pick among the well-formed ones (any when none is).
int64_t pick_seed_sample(const EpisodeBatch& batch, size_t group, int64_t G, uint64_t seed) {
  std::vector<int64_t> candidates;
  for (int64_t g = 0; g < G; ++g) {
    if (batch.scored[group * size_t(G) + size_t(g)].well_formed) candidates.push_back(g);
  }
  if (candidates.empty()) return int64_t(seed % uint64_t(G));
  return candidates[seed % candidates.size()];
}

}  // namespace

EpisodeBatch run_episodes(PolicyHandle policy, const std::vector<const RlUser*>& users,
                          const std::vector<int64_t>& positions, ProfileJudge& judge, const RewardConfig& reward,
                          const EpisodeSettings& settings) {
  if (users.size() != positions.size()) throw Error("run_episodes: one position per user");
  EpisodeBatch batch;
  if (users.empty()) return batch;
  const int64_t G = settings.group_size;
  std::vector<std::string> texts;
  std::vector<std::vector<data::BenchmarkTask>> tasks;
  for (size_t i = 0; i < users.size(); ++i) {
    texts.push_back(policy.prompts.profile(users[i]->user_id, users[i]->stage1_events).text);
    tasks.push_back(reward_tasks(users[i]->stage1_tasks, settings.next_task_only, settings.max_tasks_per_user,
                                 sequence_seed(settings.pick_seed, uint64_t(2 * positions[i]))));
  }
  add_stage(policy, texts, std::move(tasks), positions, 1, judge, reward, settings, batch);
  if (!settings.streaming) return batch;

  std::vector<int64_t> seeded(users.size());
  texts.clear();
  tasks.clear();
  for (size_t i = 0; i < users.size(); ++i) {
    seeded[i] = pick_seed_sample(batch, i, G, sequence_seed(settings.pick_seed ^ 0x5eedULL, uint64_t(positions[i])));
    const ScoredOutput& seed = batch.scored[i * size_t(G) + size_t(seeded[i])];
    texts.push_back(
        policy.prompts.update(users[i]->user_id, seed.well_formed ? seed.profile : "", users[i]->stage2_events).text);
    tasks.push_back(reward_tasks(users[i]->stage2_tasks, settings.next_task_only, settings.max_tasks_per_user,
                                 sequence_seed(settings.pick_seed, uint64_t(2 * positions[i] + 1))));
  }
  const size_t stage2 = add_stage(policy, texts, std::move(tasks), positions, 2, judge, reward, settings, batch);
  for (size_t i = 0; i < users.size(); ++i) {
    double mean = 0;
    for (int64_t g = 0; g < G; ++g) mean += batch.rewards[(stage2 + i) * size_t(G) + size_t(g)];
    mean /= double(G);
    std::vector<RewardTerms> stage1;
    for (int64_t g = 0; g < G; ++g) stage1.push_back(batch.scored[i * size_t(G) + size_t(g)].terms);
    add_streaming_credit(stage1, seeded[i], mean, reward);
    for (int64_t g = 0; g < G; ++g) {
      batch.scored[i * size_t(G) + size_t(g)].terms = stage1[size_t(g)];
      batch.rewards[i * size_t(G) + size_t(g)] = stage1[size_t(g)].total;
    }
  }
  return batch;
}

}  // namespace upm
