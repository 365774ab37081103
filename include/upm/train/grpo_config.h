#pragma once
// Every knob of a GRPO run (`upm-train rl --config F --set k=v`), with its
// default. See docs/train.md ("RL").

#include <cstdint>
#include <string>

#include "upm/core/config.h"
#include "upm/data/prompt_config.h"
#include "upm/infer/generation_config.h"
#include "upm/model/lora.h"
#include "upm/model/model_runtime.h"
#include "upm/infer/language_model.h"
#include "upm/infer/predictor.h"
#include "upm/infer/remote_predictor.h"
#include "upm/train/dynamic_sampling.h"
#include "upm/train/grpo_loss.h"
#include "upm/train/lr_schedule.h"
#include "upm/train/optimizer.h"
#include "upm/train/rl_reward.h"

namespace upm {

// Users and the held-out tasks their profiles are rewarded on.
struct RlDataConfig {
  std::string users;       // user-log JSONL: the histories the policy reads (required)
  std::string tasks;       // benchmark JSONL: each user's held-out tasks (required)
  std::string eval_users;  // held-out users (never trained on); "" = no eval
  std::string eval_tasks;
  int64_t max_tasks_per_user = 0;  // > 0: reward on at most this many tasks per sample (a seeded pick per step)
  // "sample": the tasks above; "next": only the stage's first task in file
  // order, its next target (AlignXplore+ rewards one next target per stage).
  std::string reward_tasks = "sample";
  // Two-stage streaming episodes: stage 1 profiles the first `stage1_fraction`
  // of the (chronological) history, stage 2 updates that profile with the
  // rest through the update prompt. Tasks whose field "stage" is 1 reward
  // stage 1 only; the others reward stage 2 (and stage 1 when a user has no
  // stage-1 task).
  bool streaming = false;
  double stage1_fraction = 0.5;
};
void describe(ConfigIO& io, RlDataConfig& c);

// The frozen judge that reads a sampled profile and picks the user's option.
struct RlPredictorConfig {
  std::string kind = "local";  // local: a model folder; remote: an OpenAI-compatible endpoint
  std::string model;           // local: the predictor's model folder ("" = the initial policy folder)
  ModelRuntime runtime;        // local
  PromptFormat prompt_format;  // local: raw or chat prompts
  PredictorConfig predictor;   // mode, option shuffling (its seed is mixed with the step), batch rows
  // remote: the keys "remote" (an OpenAIClientConfig object: {"base_url",
  // "model", ...}) and "missing_label_logprob", as upm-eval's remote predictors.
  RemotePredictorConfig endpoint;
};
void describe(ConfigIO& io, RlPredictorConfig& c);

struct GrpoConfig {
  std::string run_dir;         // output folder (required)
  std::string policy;          // HF model folder of the initial policy (required)
  std::string tokenizer;       // "" = the policy folder
  ModelRuntime runtime;        // device + dtype of the policy (and reference)
  PromptFormat prompt_format;  // how profile/update prompts reach the policy
  LoraConfig lora;             // lora.enabled: train adapters only; the reference is the base
  data::PromptConfig prompts;  // profile, update and predict templates (policy and local predictor)
  RlDataConfig data;
  RlPredictorConfig predictor;
  RewardConfig reward;
  GenerationConfig generation;  // rollouts (temperature, top_p, max_new_tokens, ...); evals decode it greedily
  GrpoLossConfig loss;          // advantages (scale_by_std), clip, kl_beta, aggregation
  int64_t group_size = 4;       // G samples per prompt
  int64_t users_per_step = 8;   // users per step over all ranks
  // Zero-spread groups dropped and refilled with more users (DAPO; off).
  DynamicSamplingConfig dynamic_sampling;
  int64_t ppo_epochs = 1;   // optimisation passes over each rollout batch
  int64_t minibatches = 1;  // optimizer updates per pass (each rank splits its samples)
  // Old-policy log-probs: "sampler" (those the generator computed while
  // sampling) or "recompute" (one no-grad training forward before the passes:
  // the first ratio is then exactly 1, whatever the decode kernels' rounding).
  std::string old_logprobs = "sampler";
  int64_t micro_batch_size = 16;  // sequences per forward/backward inside a minibatch
  AdamWConfig optimizer;
  LrScheduleConfig schedule;  // over RL steps
  int64_t max_steps = 100;
  int64_t log_every = 1;
  int64_t eval_every = 0;         // steps between held-out evals (0: at the start and end only)
  int64_t eval_batch_users = 32;  // users generated together in an eval
  int64_t save_every = 0;         // steps between checkpoints (0: only the final one)
  int64_t keep_checkpoints = 2;
  uint64_t seed = 0;    // user order, sampling streams, option order, stage-2 pick
  int64_t threads = 0;  // intra-op CPU threads (0: LibTorch's default)
};
void describe(ConfigIO& io, GrpoConfig& c);

}  // namespace upm
