#include "upm/train/grpo_trainer.h"

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
  std::shared_ptr<CausalLM> reference;   // full fine-tuning with kl_beta > 0
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
  if (!config.lora.enabled && config.loss.kl_beta > 0) {
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
    auto client = std::make_shared<openai::OpenAIClient>(
        config_from_json<openai::OpenAIClientConfig>(p.remote, "predictor.remote"));
    ChatSender send = [client](const std::vector<openai::ChatRequest>& requests) {
      return client->chat_many(requests);
    };
    s.own_judge = std::make_unique<RemoteJudge>(
        send, p.predictor, config.prompts,
        [tok = s.policy.tokenizer](std::string_view text) { return tok->count_tokens(text); }, p.missing_label_logprob,
        client->config().base_url);
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

// The learner's view of an episode batch: completions after their prompts.
GrpoUpdateInput update_input(const GrpoConfig& config, RlSession& s, const EpisodeBatch& batch) {
  GrpoUpdateInput in;
  std::vector<const std::vector<float>*> sampler_logprobs;
  std::vector<int64_t> kept;  // samples that take part in the update
  for (size_t i = 0; i < batch.samples.size(); ++i) {
    const RolloutSample& sample = batch.samples[i];
    if (config.loss.mask_truncated && sample.truncated) continue;
    in.rows.push_back({&batch.prompts[size_t(sample.group)], &sample.tokens});
    sampler_logprobs.push_back(&sample.logprobs);
    kept.push_back(int64_t(i));
  }
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
  in.old_logprobs = config.old_logprobs == "recompute"
                        ? frozen_logprobs(*s.policy.model, in.rows, config.micro_batch_size)
                        : pad_token_values(sampler_logprobs, device);
  if (config.loss.kl_beta > 0) {
    if (Lora* lora = s.trainable->lora()) {
      lora->set_enabled(false);
      in.ref_logprobs = frozen_logprobs(*s.policy.model, in.rows, config.micro_batch_size);
      lora->set_enabled(true);
    } else {
      in.ref_logprobs = frozen_logprobs(*s.reference, in.rows, config.micro_batch_size);
    }
  }
  return in;
}

// One RL step: rollouts of this rank's users, then the learner update; the
// step's metrics summed over the ranks.
StepReport rl_step(const GrpoConfig& config, RlSession& s, Generator& generator,
                   const std::vector<int64_t>& batch_users, const std::vector<int64_t>& positions, double lr,
                   int64_t done, Distributed* dist) {
  std::vector<const RlUser*> users;
  for (int64_t p : positions) users.push_back(&s.train[size_t(batch_users[size_t(p)])]);
  EpisodeSettings settings;
  settings.group_size = config.group_size;
  settings.generation = config.generation;
  settings.sampling_seed = sequence_seed(config.seed ^ config.generation.sampling.seed, uint64_t(done));
  settings.order_seed = sequence_seed(config.predictor.predictor.seed, uint64_t(done) + 1);
  settings.pick_seed = sequence_seed(config.seed + 1, uint64_t(done));
  settings.max_tasks_per_user = config.data.max_tasks_per_user;
  settings.streaming = config.data.streaming;
  s.trainable->set_training(false);
  EpisodeBatch episodes =
      run_episodes({generator, s.policy, *s.prompts}, users, positions, *s.judge, config.reward, settings);

  const auto optim_start = Clock::now();
  s.trainable->set_training(true);
  GrpoUpdateInput input = update_input(config, s, episodes);
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

  RlSums sums;
  sums.add(episodes);
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
