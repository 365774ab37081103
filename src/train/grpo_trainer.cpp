#include "upm/train/grpo_trainer.h"

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "upm/model/cpu_threads.h"
#include "upm/core/error.h"
#include "upm/core/progress.h"
#include "upm/core/run_dir.h"
#include "upm/infer/generator.h"
#include "upm/infer/sampler.h"
#include "upm/model/lora.h"
#include "upm/model/weights_loader.h"
#include "upm/text/tokenizer.h"
#include "upm/train/batch_plan.h"
#include "upm/train/checkpoint.h"
#include "upm/dist/process_group.h"
#include "upm/train/grpo_update.h"
#include "upm/train/metrics_log.h"
#include "upm/openai/openai_client.h"
#include "upm/train/profile_judge.h"
#include "upm/train/remote_judge.h"
#include "upm/train/rl_stats.h"
#include "upm/train/rollout.h"

namespace upm {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Everything a run holds besides the loop's counters.
struct RlSession {
  LanguageModel policy;
  std::string tokenizer_path;
  std::unique_ptr<Lora> lora;
  std::shared_ptr<CausalLM> reference;  // full fine-tuning with kl_beta > 0
  std::unique_ptr<AdamW> optimizer;
  std::unique_ptr<data::PromptBuilder> prompts;
  std::unique_ptr<LanguageModel> predictor_lm;
  std::unique_ptr<ProfileJudge> own_judge;
  ProfileJudge* judge = nullptr;
  std::vector<RlUser> train, eval;
};

void load_policy(const GrpoConfig& config, const std::optional<std::string>& resume_from, RlSession& s) {
  s.policy = load_language_model(config.policy, config.runtime, config.prompt_format);
  s.tokenizer_path = config.tokenizer.empty() ? config.policy : config.tokenizer;
  if (!config.tokenizer.empty()) s.policy.tokenizer = load_tokenizer(config.tokenizer);
  if (config.lora.enabled) {
    s.lora = resume_from ? Lora::load(*s.policy.model, *resume_from)
                         : std::make_unique<Lora>(*s.policy.model, config.lora, config.seed);
  } else {
    if (config.loss.kl_beta > 0) {
      s.reference = load_pretrained(config.policy, config.runtime);
      for (auto& p : s.reference->parameters()) p.set_requires_grad(false);
    }
    if (resume_from) load_weights(*s.policy.model, *resume_from);
  }
  s.optimizer = std::make_unique<AdamW>(s.lora ? s.lora->parameters() : s.policy.model->hf_tensors(), config.optimizer);
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
    auto client = std::make_shared<openai::OpenAIClient>(config_from_json<openai::OpenAIClientConfig>(p.remote, "predictor.remote"));
    ChatSender send = [client](const std::vector<openai::ChatRequest>& requests) { return client->chat_many(requests); };
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
  s.train = load_rl_users(config.data.users, config.data.tasks, config.data.streaming, config.data.stage1_fraction, &skipped);
  if (skipped) spdlog::warn("{} user(s) of {} have no task in {} and are left out", skipped, config.data.users, config.data.tasks);
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

void write_model_files(const GrpoConfig& config, const RlSession& s, const std::string& dir) {
  if (s.lora) {
    s.lora->save(dir, config.policy);
  } else {
    save_pretrained(*s.policy.model, dir);
  }
  copy_tokenizer_files(s.tokenizer_path, dir);
}

void set_training(RlSession& s, bool on) {
  if (s.lora) s.lora->train(on);
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
  set_training(s, false);
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
  for (const auto& sample : batch.samples) {
    in.rows.push_back({&batch.prompts[size_t(sample.group)], &sample.tokens});
    sampler_logprobs.push_back(&sample.logprobs);
  }
  const c10::Device device = s.policy.model->device();
  torch::Tensor rewards = torch::tensor(batch.rewards, torch::kDouble);
  in.advantages = group_advantages(rewards, config.group_size, config.loss).to(torch::kFloat).to(device);
  if (in.rows.empty()) {
    in.old_logprobs = torch::zeros({0, 1}, torch::TensorOptions().dtype(torch::kFloat).device(device));
    return in;
  }
  in.old_logprobs = config.old_logprobs == "recompute"
                        ? frozen_logprobs(*s.policy.model, in.rows, config.micro_batch_size)
                        : pad_token_values(sampler_logprobs, device);
  if (config.loss.kl_beta > 0) {
    if (s.lora) {
      s.lora->set_enabled(false);
      in.ref_logprobs = frozen_logprobs(*s.policy.model, in.rows, config.micro_batch_size);
      s.lora->set_enabled(true);
    } else {
      in.ref_logprobs = frozen_logprobs(*s.reference, in.rows, config.micro_batch_size);
    }
  }
  return in;
}

}  // namespace

GrpoResult run_grpo(const GrpoConfig& config, const GrpoRunOptions& options) {
  Distributed* dist = options.dist;
  const bool writer = !dist || dist->rank() == 0;
  const int world = dist ? dist->world_size() : 1, rank = dist ? dist->rank() : 0;
  if (config.users_per_step < world) {
    throw InputError(Location{"config", 0, "users_per_step"}, "must be >= the number of ranks");
  }
  if (config.threads > 0) set_cpu_threads(int(config.threads));  // torch and OpenBLAS alike
  const std::optional<std::string> resume_from = checkpoint_to_resume(config.run_dir, options.resume);
  const FileLock run_lock = writer ? prepare_run_dir(config.run_dir, config_to_json(config)) : FileLock{};

  RlSession s;
  load_policy(config, resume_from, s);
  load_judge(config, options.judge, s);
  load_users(config, s);
  TrainerState state;
  if (resume_from) {
    state = load_checkpoint_state(*resume_from, *s.optimizer);
    spdlog::info("resuming from {} (step {})", *resume_from, state.step);
  } else {
    torch::manual_seed(config.seed);
  }
  broadcast_params(dist, s.optimizer->params());

  BatchPlan plan(std::vector<int64_t>(s.train.size(), 1), config.users_per_step, config.seed, /*bucket_batches=*/1);
  spdlog::info("RL: {} train users, {} eval users, {} users x {} samples per step over {} rank(s), {} steps",
               s.train.size(), s.eval.size(), config.users_per_step, config.group_size, world, config.max_steps);
  std::unique_ptr<MetricsLog> metrics;
  if (writer) metrics = std::make_unique<MetricsLog>((fs::path(config.run_dir) / "metrics.jsonl").string(), state.step);
  const std::string checkpoints_dir = (fs::path(config.run_dir) / "checkpoints").string();
  auto checkpoint = [&] {
    if (!writer) return std::string();
    return save_checkpoint(checkpoints_dir, state, *s.optimizer,
                           [&](const std::string& dir) { write_model_files(config, s, dir); }, config.keep_checkpoints);
  };

  Generator generator(*s.policy.model, s.policy.tokenizer.get());
  GrpoResult result;
  if (!s.eval.empty() && state.step == 0) {
    result.initial_eval = evaluate(config, s, generator, dist);
    nlohmann::json record = result.initial_eval;
    record["step"] = 0;
    if (metrics) metrics->write(record);
  }
  const std::vector<int64_t> positions = my_positions(config.users_per_step, rank, world);
  Progress progress("rl", config.max_steps - state.step, "steps");
  while (state.step < config.max_steps) {
    const auto start = Clock::now();
    const std::vector<int64_t> batch_users = plan.batch_at(state.position);
    std::vector<const RlUser*> users;
    for (int64_t p : positions) users.push_back(&s.train[size_t(batch_users[size_t(p)])]);

    EpisodeSettings settings;
    settings.group_size = config.group_size;
    settings.generation = config.generation;
    settings.sampling_seed = sequence_seed(config.seed ^ config.generation.sampling.seed, uint64_t(state.step));
    settings.order_seed = sequence_seed(config.predictor.predictor.seed, uint64_t(state.step) + 1);
    settings.pick_seed = sequence_seed(config.seed + 1, uint64_t(state.step));
    settings.max_tasks_per_user = config.data.max_tasks_per_user;
    settings.streaming = config.data.streaming;
    set_training(s, false);
    EpisodeBatch episodes = run_episodes({generator, s.policy, *s.prompts}, users, positions, *s.judge, config.reward, settings);

    const auto optim_start = Clock::now();
    set_training(s, true);
    GrpoUpdateInput input = update_input(config, s, episodes);
    GrpoUpdateOptions update;
    update.loss = config.loss;
    update.ppo_epochs = config.ppo_epochs;
    update.minibatches = config.minibatches;
    update.micro_batch_size = config.micro_batch_size;
    update.lr = config.optimizer.lr * lr_multiplier(config.schedule, state.step, config.max_steps);
    update.max_grad_norm = config.optimizer.max_grad_norm;
    update.shuffle_seed = sequence_seed(config.seed + 2, uint64_t(state.step));
    GrpoUpdateStats stats = grpo_update(*s.policy.model, *s.optimizer, input, update, dist);
    const double optim_seconds = seconds_since(optim_start);
    const double step_seconds = seconds_since(start);

    state.position = plan.next(state.position);
    ++state.step;
    progress.advance();
    RlSums sums;
    sums.add(episodes);
    sums.sum_over_ranks(dist);
    nlohmann::json record = sums.metrics();
    result.last_reward_mean = record["reward_mean"].get<double>();
    record["step"] = state.step;
    record["epoch"] = state.position.epoch;
    record["lr"] = update.lr;
    record["loss"] = stats.loss;
    record["kl"] = stats.kl;
    record["clip_fraction"] = stats.clip_fraction;
    record["ratio_mean"] = stats.ratio_mean;
    record["entropy"] = stats.entropy;
    record["grad_norm"] = stats.grad_norm;
    record["updates"] = stats.updates;
    record["judge_requests"] = sums.judge_requests;
    record["rollout_s"] = episodes.rollout_seconds;
    record["reward_s"] = episodes.reward_seconds;
    record["optim_s"] = optim_seconds;
    record["step_time_s"] = step_seconds;
    record["rollout_tokens_per_s"] = episodes.rollout_seconds > 0 ? double(episodes.generated_tokens) / episodes.rollout_seconds : 0.0;
    const bool last = state.step == config.max_steps;
    if (!s.eval.empty() && (last || (config.eval_every > 0 && state.step % config.eval_every == 0))) {
      result.final_eval = evaluate(config, s, generator, dist);
      record.update(result.final_eval);
    }
    if (metrics && (last || state.step % config.log_every == 0 || record.contains("eval_reward_mean"))) metrics->write(record);
    if (options.stop_after_steps > 0 && state.step == options.stop_after_steps && !last) {
      result.output_dir = checkpoint();
      result.steps = state.step;
      return result;
    }
    if (last || (config.save_every > 0 && state.step % config.save_every == 0)) checkpoint();
  }
  progress.finish();
  result.steps = state.step;
  if (writer) result.output_dir = write_final_model(config.run_dir, [&](const std::string& dir) { write_model_files(config, s, dir); });
  if (dist) dist->barrier();
  return result;
}

}  // namespace upm
