#include "upm/train/grpo_config.h"

namespace upm {

void describe(ConfigIO& io, RlDataConfig& c) {
  io.field("users", c.users).required();
  io.field("tasks", c.tasks).required();
  io.field("eval_users", c.eval_users);
  io.field("eval_tasks", c.eval_tasks);
  io.field("max_tasks_per_user", c.max_tasks_per_user).at_least(0);
  io.field("reward_tasks", c.reward_tasks).one_of({"sample", "next"});
  if (io.reading() && c.reward_tasks == "next" && c.max_tasks_per_user > 0) {
    io.fail("max_tasks_per_user", "must be 0 with reward_tasks \"next\" (one task per stage)");
  }
  io.field("streaming", c.streaming);
  io.field("stage1_fraction", c.stage1_fraction).greater_than(0.0).at_most(1.0);
  if (io.reading() && c.eval_users.empty() != c.eval_tasks.empty()) {
    io.fail("eval_tasks", "eval_users and eval_tasks go together");
  }
}

void describe(ConfigIO& io, RlPredictorConfig& c) {
  io.field("kind", c.kind).one_of({"local", "remote"});
  io.field("model", c.model);
  io.section("runtime", c.runtime);
  io.section("prompt_format", c.prompt_format);
  io.section("predictor", c.predictor);
  describe(io, c.endpoint);
  if (io.reading() && c.kind == "remote") check_remote_predictor(io, c.endpoint, c.predictor, "predictor");
}

void describe(ConfigIO& io, GrpoConfig& c) {
  io.field("run_dir", c.run_dir).required();
  io.field("policy", c.policy).required();
  io.field("tokenizer", c.tokenizer);
  io.section("runtime", c.runtime);
  io.section("prompt_format", c.prompt_format);
  io.section("lora", c.lora);
  io.section("prompts", c.prompts);
  io.section("data", c.data);
  io.section("predictor", c.predictor);
  io.section("reward", c.reward);
  io.section("generation", c.generation);
  io.section("loss", c.loss);
  io.field("group_size", c.group_size).at_least(2);
  io.field("users_per_step", c.users_per_step).at_least(1);
  io.section("dynamic_sampling", c.dynamic_sampling);
  io.field("ppo_epochs", c.ppo_epochs).at_least(1);
  io.field("minibatches", c.minibatches).at_least(1);
  io.field("old_logprobs", c.old_logprobs).one_of({"sampler", "recompute"});
  io.field("micro_batch_size", c.micro_batch_size).at_least(1);
  io.section("optimizer", c.optimizer);
  io.section("schedule", c.schedule);
  io.field("max_steps", c.max_steps).at_least(1);
  io.field("log_every", c.log_every).at_least(1);
  io.field("eval_every", c.eval_every).at_least(0);
  io.field("eval_batch_users", c.eval_batch_users).at_least(1);
  io.field("save_every", c.save_every).at_least(0);
  io.field("keep_checkpoints", c.keep_checkpoints).at_least(0);
  io.field("seed", c.seed);
  io.field("threads", c.threads).at_least(0);
}

}  // namespace upm
