#include "upm/train/grpo_trainer.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/dist/process_group.h"
#include "upm/infer/generator.h"
#include "upm/infer/sampler.h"
#include "upm/model/lora.h"
#include "upm/model/weights_loader.h"
#include "upm/openai/openai_client.h"
#include "upm/text/tokenizer.h"
#include "upm/train/batch_plan.h"
#include "upm/train/dynamic_sampling.h"
#include "upm/train/grpo_update.h"
#include "upm/train/profile_judge.h"
#include "upm/train/remote_judge.h"
#include "upm/train/rl_stats.h"
#include "upm/train/rollout.h"
#include "upm/train/train_loop.h"
#include "upm/train/trainable.h"

namespace upm {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Everything a run holds besides the loop's counters.
struct RlSession {
  LanguageModel policy;
  std::unique_ptr<Trainable> trainable;  // the policy's trained part, optimizer and model files
  std::shared_ptr<CausalLM> reference;   // full fine-tuning with a KL term (loss or reward)
  std::unique_ptr<data::PromptBuilder> prompts;
  std::unique_ptr<LanguageModel> predictor_lm;
  std::unique_ptr<ProfileJudge> own_judge;
  ProfileJudge* judge = nullptr;
  std::vector<RlUser> train, eval;
};

void load_policy(const GrpoConfig& config, const std::optional<std::string>& resume_from, RlSession& s) {
  s.policy = load_language_model(config.policy, config.runtime, config.prompt_format);
  if (!config.tokenizer.empty()) s.policy.tokenizer = load_tokenizer(config.tokenizer);
  s.trainable = std::make_unique<Trainable>(trainable_settings(config, config.policy, "pretrained"), s.policy.model);
  if (!config.lora.enabled && (config.loss.kl_beta > 0 || config.reward.kl_coef > 0)) {
    s.reference = load_pretrained(config.policy, config.runtime);
    for (auto& p : s.reference->parameters()) p.set_requires_grad(false);
  }
  s.trainable->attach_weights(resume_from);
  s.trainable->make_optimizer(s.trainable->weights());
  s.prompts = std::make_unique<data::PromptBuilder>(
      config.prompts, [tok = s.policy.tokenizer](std::string_view text) { return tok->count_tokens(text); });
}

void load_judge(const GrpoConfig& config, ProfileJudge* given, RlSession& s) {
  if (given) {
    s.judge = given;
    return;
  }
  const RlPredictorConfig& p = config.predictor;
  if (p.kind == "remote") {
    auto client = std::make_shared<openai::OpenAIClient>(remote_client_config(p.endpoint, "predictor.remote"));
    ChatSender send = [client](const std::vector<openai::ChatRequest>& requests) {
      return client->chat_many(requests);
    };
    s.own_judge = std::make_unique<RemoteJudge>(
        send, p.predictor, config.prompts,
        [tok = s.policy.tokenizer](std::string_view text) { return tok->count_tokens(text); },
        p.endpoint.missing_label_logprob, client->config().base_url);
    s.judge = s.own_judge.get();
    return;
  }
  s.predictor_lm = std::make_unique<LanguageModel>(
      load_language_model(p.model.empty() ? config.policy : p.model, p.runtime, p.prompt_format));
  for (auto& param : s.predictor_lm->model->parameters()) param.set_requires_grad(false);
  s.own_judge = std::make_unique<LocalJudge>(*s.predictor_lm, p.predictor, config.prompts);
  s.judge = s.own_judge.get();
}

void load_users(const GrpoConfig& config, RlSession& s) {
  int64_t skipped = 0;
  s.train =
      load_rl_users(config.data.users, config.data.tasks, config.data.streaming, config.data.stage1_fraction, &skipped);
  if (skipped)
    spdlog::warn("{} user(s) of {} have no task in {} and are left out", skipped, config.data.users, config.data.tasks);
  if (int64_t(s.train.size()) < config.users_per_step) {
    throw InputError(Location{config.data.users, 0, "users_per_step"},
                     std::to_string(s.train.size()) + " users with tasks, fewer than users_per_step " +
                         std::to_string(config.users_per_step));
  }
  if (!config.data.eval_users.empty()) {
    s.eval = load_rl_users(config.data.eval_users, config.data.eval_tasks, config.data.streaming,
                           config.data.stage1_fraction);
  }
}

// Greedy profiles of this rank's share of the eval users, judged with the
// base option order; the eval_* metrics over all ranks.
nlohmann::json evaluate(const GrpoConfig& config, RlSession& s, Generator& generator, Distributed* dist) {
  const int rank = dist ? dist->rank() : 0, world = dist ? dist->world_size() : 1;
  EpisodeSettings settings;
  settings.group_size = 1;
  settings.generation = config.generation;
  settings.generation.sampling.temperature = 0.0;
  settings.order_seed = config.predictor.predictor.seed;
  settings.pick_seed = config.seed;
  settings.streaming = config.data.streaming;
  s.trainable->set_training(false);
  RlSums sums;
  std::vector<const RlUser*> users;
  std::vector<int64_t> positions;
  auto flush = [&] {
    sums.add(run_episodes({generator, s.policy, *s.prompts}, users, positions, *s.judge, config.reward, settings));
    users.clear();
    positions.clear();
  };
  for (size_t i = size_t(rank); i < s.eval.size(); i += size_t(world)) {
    users.push_back(&s.eval[i]);
    positions.push_back(int64_t(i));
    if (int64_t(users.size()) == config.eval_batch_users) flush();
  }
  if (!users.empty()) flush();
  sums.sum_over_ranks(dist);
  nlohmann::json out = sums.metrics("eval_");
  out["eval_users"] = s.eval.size();
  return out;
}

// Indices into the global batch of the users this rank rolls out.
std::vector<int64_t> my_positions(int64_t batch_size, int rank, int world) {
  std::vector<int64_t> all(static_cast<size_t>(batch_size));
  for (int64_t i = 0; i < batch_size; ++i) all[size_t(i)] = i;
  return rank_share(all, rank, world);
}

// Log-probs of `rows` under the reference: the base with the adapters off
// (LoRA) or the frozen copy of the initial policy.
torch::Tensor reference_logprobs(const GrpoConfig& config, RlSession& s, const std::vector<CompletionRef>& rows) {
  if (Lora* lora = s.trainable->lora()) {
    lora->set_enabled(false);
    torch::Tensor out = frozen_logprobs(*s.policy.model, rows, config.micro_batch_size);
    lora->set_enabled(true);
    return out;
  }
  return frozen_logprobs(*s.reference, rows, config.micro_batch_size);
}

// Samples `indices` of `batch` as the learner reads them: each completion
// after its prompt, with the log-probs the sampler computed.
struct CompletionRows {
  std::vector<CompletionRef> rows;
  std::vector<const std::vector<float>*> sampler_logprobs;
};

CompletionRows completion_rows(const EpisodeBatch& batch, const std::vector<int64_t>& indices) {
  CompletionRows out;
  for (int64_t i : indices) {
    const RolloutSample& sample = batch.samples[size_t(i)];
    out.rows.push_back({&batch.prompts[size_t(sample.group)], &sample.tokens});
    out.sampler_logprobs.push_back(&sample.logprobs);
  }
  return out;
}

// The old policy's log-probs of the rows (sampler's or recomputed, as configured).
torch::Tensor old_logprobs_of(const GrpoConfig& config, RlSession& s, const CompletionRows& c) {
  return config.old_logprobs == "recompute" ? frozen_logprobs(*s.policy.model, c.rows, config.micro_batch_size)
                                            : pad_token_values(c.sampler_logprobs, s.policy.model->device());
}

// update_input with KL in the reward: the old and reference log-probs of
// every sample (truncated ones too: their rewards shape their group's
// advantages), each reward less kl_coef x the sample's summed KL estimate,
// then the update's rows (`kept`) taken from those tensors.
GrpoUpdateInput kl_reward_input(const GrpoConfig& config, RlSession& s, const EpisodeBatch& batch,
                                const std::vector<int64_t>& kept, std::vector<double>& kl_penalty) {
  const c10::Device device = s.policy.model->device();
  std::vector<int64_t> every(batch.samples.size()), lengths;
  for (size_t i = 0; i < every.size(); ++i) {
    every[i] = int64_t(i);
    lengths.push_back(int64_t(batch.samples[i].tokens.size()));
  }
  const CompletionRows all = completion_rows(batch, every);
  const std::vector<CompletionRef>& rows = all.rows;
  torch::Tensor old_lp = old_logprobs_of(config, s, all);
  torch::Tensor ref_lp = reference_logprobs(config, s, rows);
  const int64_t T = std::min(old_lp.size(1), ref_lp.size(1));  // both the longest completion (at least 1)
  old_lp = old_lp.narrow(1, 0, T);
  ref_lp = ref_lp.narrow(1, 0, T);
  const torch::Tensor mask =
      (torch::arange(T, torch::kLong).unsqueeze(0) < torch::tensor(lengths, torch::kLong).unsqueeze(1)).to(device);
  const torch::Tensor penalty =
      kl_reward_penalty(old_lp, ref_lp, mask, config.reward.kl_coef, config.reward.kl_estimator).to(torch::kCPU);
  kl_penalty.assign(penalty.data_ptr<double>(), penalty.data_ptr<double>() + penalty.numel());
  const torch::Tensor rewards = torch::tensor(batch.rewards, torch::kDouble) - penalty;

  GrpoUpdateInput in;
  for (int64_t i : kept) in.rows.push_back(rows[size_t(i)]);
  const torch::Tensor index = torch::tensor(kept, torch::kLong);
  in.advantages =
      group_advantages(rewards, config.group_size, config.loss).index_select(0, index).to(torch::kFloat).to(device);
  in.old_logprobs = old_lp.index_select(0, index.to(device));
  // Passed even with kl_beta 0: the loss then only reports the KL (`kl`).
  in.ref_logprobs = ref_lp.index_select(0, index.to(device));
  return in;
}

// The learner's view of an episode batch: completions after their prompts.
// With reward.kl_coef > 0, `kl_penalty` receives each sample's KL penalty
// (already taken off the rewards the advantages are computed from).
GrpoUpdateInput update_input(const GrpoConfig& config, RlSession& s, const EpisodeBatch& batch,
                             std::vector<double>& kl_penalty) {
  std::vector<int64_t> kept;  // samples that take part in the update
  for (size_t i = 0; i < batch.samples.size(); ++i) {
    if (!(config.loss.mask_truncated && batch.samples[i].truncated)) kept.push_back(int64_t(i));
  }
  if (config.reward.kl_coef > 0 && !batch.samples.empty()) return kl_reward_input(config, s, batch, kept, kl_penalty);
  GrpoUpdateInput in;
  const CompletionRows update_rows = completion_rows(batch, kept);
  in.rows = update_rows.rows;
  const c10::Device device = s.policy.model->device();
  torch::Tensor rewards = torch::tensor(batch.rewards, torch::kDouble);
  // Advantages over whole groups (truncated samples included), then the
  // update's rows.
  in.advantages = group_advantages(rewards, config.group_size, config.loss)
                      .index_select(0, torch::tensor(kept, torch::kLong))
                      .to(torch::kFloat)
                      .to(device);
  if (in.rows.empty()) {
    in.old_logprobs = torch::zeros({0, 1}, torch::TensorOptions().dtype(torch::kFloat).device(device));
    return in;
  }
  in.old_logprobs = old_logprobs_of(config, s, update_rows);
  if (config.loss.kl_beta > 0) in.ref_logprobs = reference_logprobs(config, s, in.rows);
  return in;
}

// The step's rollouts: one round over the batch users, or with dynamic
// sampling further rounds over seeded draws of the training users until the
// step holds as many groups with a spread as a round rolls out (users_per_step
// x stages), the first ones in (round, stage, batch position) order, or
// max_rounds extra rounds have run.
//
// Why drop them rather than keep their zero advantages: whatever the
// aggregation, every row of the update counts in the divisor of the
// minibatch's loss (its tokens for the token mean, one sequence otherwise),
// so zero-spread groups dilute the gradient of the others by their share of
// the batch; dropped, the informative groups keep the weight a full batch
// would give them, as DAPO intends. Dropped groups also leave the KL
// and entropy terms, the only gradient they had.
struct StepRollouts {
  EpisodeBatch batch;                        // the groups the update sees (this rank's)
  RlSums sums;                               // every rollout of the step (this rank's)
  int64_t rounds = 1, kept = 0, rolled = 0;  // groups over all ranks
};

// Round 0 keeps the seeds a run without dynamic sampling uses.
uint64_t round_seed(uint64_t seed, int64_t round) {
  return round == 0 ? seed : sequence_seed(seed ^ 0xda90da90ULL, uint64_t(round));
}

StepRollouts step_rollouts(const GrpoConfig& config, RlSession& s, Generator& generator,
                           const std::vector<int64_t>& batch_users, const std::vector<int64_t>& positions, int64_t done,
                           Distributed* dist) {
  const DynamicSamplingConfig& ds = config.dynamic_sampling;
  const int64_t U = config.users_per_step, G = config.group_size;
  const int64_t target = U * (config.data.streaming ? 2 : 1);  // groups per round over all ranks
  StepRollouts out;
  for (int64_t round = 0;; ++round) {
    const std::vector<int64_t> round_users =
        round == 0 ? batch_users
                   : draw_users(int64_t(s.train.size()), U,
                                sequence_seed(sequence_seed(config.seed + 3, uint64_t(done)), uint64_t(round)));
    std::vector<const RlUser*> users;
    for (int64_t p : positions) users.push_back(&s.train[size_t(round_users[size_t(p)])]);
    EpisodeSettings settings;
    settings.group_size = G;
    settings.generation = config.generation;
    settings.sampling_seed =
        round_seed(sequence_seed(config.seed ^ config.generation.sampling.seed, uint64_t(done)), round);
    settings.order_seed = round_seed(sequence_seed(config.predictor.predictor.seed, uint64_t(done) + 1), round);
    settings.pick_seed = round_seed(sequence_seed(config.seed + 1, uint64_t(done)), round);
    settings.max_tasks_per_user = config.data.max_tasks_per_user;
    settings.next_task_only = config.data.reward_tasks == "next";
    settings.streaming = config.data.streaming;
    s.trainable->set_training(false);
    EpisodeBatch episodes =
        run_episodes({generator, s.policy, *s.prompts}, users, positions, *s.judge, config.reward, settings);
    out.sums.add(episodes);
    if (!ds.enabled) {
      out.batch = std::move(episodes);
      return out;
    }
    // Local group j is user j % n of stage j / n; its global index is the
    // stage's block plus the user's batch position. Every rank sums the
    // flags, so all agree on what is kept and whether to go on.
    const std::vector<bool> spread = groups_with_spread(episodes.rewards, G);
    const size_t n = positions.size();
    auto global_index = [&](size_t j) { return size_t(int64_t(j / n) * U + positions[j % n]); };
    std::vector<double> flags(size_t(target), 0.0);
    for (size_t j = 0; j < spread.size(); ++j) flags[global_index(j)] = spread[j] ? 1.0 : 0.0;
    flags = sum_over_ranks(dist, std::move(flags));
    std::vector<bool> taken(flags.size());
    for (size_t k = 0; k < flags.size(); ++k) taken[k] = flags[k] > 0.5;
    taken = first_flagged(std::move(taken), target - out.kept);
    std::vector<bool> keep(spread.size());
    for (size_t j = 0; j < spread.size(); ++j) keep[j] = taken[global_index(j)];
    out.kept += int64_t(std::count(taken.begin(), taken.end(), true));
    out.rolled += target;
    out.rounds = round + 1;
    append_groups(out.batch, std::move(episodes), keep, G);
    if (out.kept >= target || round >= ds.max_rounds) break;
  }
  if (out.kept < target && (!dist || dist->rank() == 0)) {
    spdlog::info("dynamic sampling: step {} trains on {} of {} groups after {} rollout rounds", done + 1, out.kept,
                 target, out.rounds);
  }
  return out;
}

// One RL step: rollouts of this rank's users, then the learner update; the
// step's metrics summed over the ranks.
StepReport rl_step(const GrpoConfig& config, RlSession& s, Generator& generator,
                   const std::vector<int64_t>& batch_users, const std::vector<int64_t>& positions, double lr,
                   int64_t done, Distributed* dist) {
  StepRollouts rollouts = step_rollouts(config, s, generator, batch_users, positions, done, dist);
  const EpisodeBatch& episodes = rollouts.batch;

  const auto optim_start = Clock::now();
  s.trainable->set_training(true);
  std::vector<double> kl_penalty;
  GrpoUpdateInput input = update_input(config, s, episodes, kl_penalty);
  GrpoUpdateOptions update;
  update.loss = config.loss;
  update.ppo_epochs = config.ppo_epochs;
  update.minibatches = config.minibatches;
  update.micro_batch_size = config.micro_batch_size;
  update.lr = lr;
  update.max_grad_norm = config.optimizer.max_grad_norm;
  update.shuffle_seed = sequence_seed(config.seed + 2, uint64_t(done));
  GrpoUpdateStats stats = grpo_update(*s.policy.model, s.trainable->optimizer(), input, update, dist);
  const double optim_seconds = seconds_since(optim_start);

  RlSums& sums = rollouts.sums;
  sums.sum_over_ranks(dist);
  StepReport report;
  report.loss = stats.loss;
  report.fields = sums.metrics();
  report.fields["kl"] = stats.kl;
  report.fields["clip_fraction"] = stats.clip_fraction;
  report.fields["ratio_mean"] = stats.ratio_mean;
  report.fields["entropy"] = stats.entropy;
  report.fields["grad_norm"] = stats.grad_norm;
  report.fields["updates"] = stats.updates;
  report.fields["judge_requests"] = sums.judge_requests;
  report.fields["rollout_s"] = episodes.rollout_seconds;
  report.fields["reward_s"] = episodes.reward_seconds;
  report.fields["optim_s"] = optim_seconds;
  report.fields["rollout_tokens_per_s"] =
      episodes.rollout_seconds > 0 ? double(episodes.generated_tokens) / episodes.rollout_seconds : 0.0;
  if (config.dynamic_sampling.enabled) {
    report.fields["rollout_rounds"] = rollouts.rounds;
    report.fields["groups_kept"] = rollouts.kept;
    report.fields["groups_dropped"] = rollouts.rolled - rollouts.kept;
  }
  if (config.reward.kl_coef > 0) {
    double penalty = 0;
    for (double p : kl_penalty) penalty += p;
    const std::vector<double> total = sum_over_ranks(dist, {penalty, double(kl_penalty.size())});
    report.fields["reward_kl"] = total[1] > 0 ? total[0] / total[1] : 0.0;
  }
  return report;
}

}  // namespace

GrpoResult run_grpo(const GrpoConfig& config, const GrpoRunOptions& options) {
  Distributed* dist = options.dist;
  const bool writer = !dist || dist->rank() == 0;
  const int world = dist ? dist->world_size() : 1, rank = dist ? dist->rank() : 0;
  if (config.users_per_step < world) {
    throw InputError(Location{"config", 0, "users_per_step"}, "must be >= the number of ranks");
  }
  const RunStart run = start_run(config.run_dir, config_to_json(config), config.threads, options.resume, writer);

  RlSession s;
  load_policy(config, run.resume_from, s);
  load_judge(config, options.judge, s);
  load_users(config, s);
  const TrainerState state = start_state(s.trainable->optimizer(), run.resume_from, config.seed, dist);

  BatchPlan plan(std::vector<int64_t>(s.train.size(), 1), config.users_per_step, config.seed, /*bucket_batches=*/1);
  TrainLoopSettings settings = loop_settings(config, plan.batches_per_epoch(), options.stop_after_steps, "rl");
  settings.eval_every = config.eval_every;
  settings.eval_at_start = true;
  settings.writer = writer;
  spdlog::info("RL: {} train users, {} eval users, {} users x {} samples per step over {} rank(s), {} steps",
               s.train.size(), s.eval.size(), config.users_per_step, config.group_size, world, config.max_steps);

  Generator generator(*s.policy.model, s.policy.tokenizer.get());
  const std::vector<int64_t> positions = my_positions(config.users_per_step, rank, world);
  GrpoResult result;
  TrainLoopHooks hooks;
  hooks.step = [&](const std::vector<int64_t>& batch, double lr, int64_t done) {
    StepReport report = rl_step(config, s, generator, batch, positions, lr, done, dist);
    result.last_reward_mean = report.fields["reward_mean"].get<double>();
    return report;
  };
  if (!s.eval.empty()) hooks.eval = [&] { return evaluate(config, s, generator, dist); };
  hooks.write_model = [&](const std::string& dir) { s.trainable->write_model_files(dir); };

  TrainLoopResult loop = run_train_loop(settings, plan, state, s.trainable->optimizer(), hooks);
  result.steps = loop.steps;
  result.initial_eval = loop.initial_eval;
  result.final_eval = loop.last_eval;
  result.output_dir = loop.output_dir;
  if (dist && !loop.stopped) dist->barrier();
  return result;
}

}  // namespace upm
