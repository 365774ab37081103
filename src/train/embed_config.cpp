#include "upm/train/embed_config.h"

namespace upm {

void describe(ConfigIO& io, EmbedDataConfig& c) {
  io.field("logs", c.logs).required();
  io.field("pairs", c.pairs).required();
  io.field("max_positive_tokens", c.max_positive_tokens).at_least(1);
}

void describe(ConfigIO& io, EmbedHeadConfig& c) {
  io.field("enabled", c.enabled);
  io.field("inner", c.inner).at_least(0);
  io.field("out", c.out).at_least(1);
  io.field("init", c.init);
}

void describe(ConfigIO& io, SoftPromptTrainConfig& c) {
  io.field("enabled", c.enabled);
  io.field("clusters", c.clusters).at_least(1);
  io.field("tokens", c.tokens).at_least(1);
  io.field("kmeans_iterations", c.kmeans_iterations).at_least(1);
}

void describe(ConfigIO& io, EmbedTrainConfig& c) {
  io.field("run_dir", c.run_dir).required();
  io.field("model", c.model).required();
  io.field("init", c.init).one_of({"pretrained", "random"});
  io.field("tokenizer", c.tokenizer);
  io.field("adapter", c.adapter);
  if (io.reading() && c.init == "random" && c.tokenizer.empty()) {
    io.fail("tokenizer", "required with init=random (the model path is only a config)");
  }
  io.section("runtime", c.runtime);
  io.section("data", c.data);
  io.section("text", c.text);
  io.field("positive_pooling", c.positive_pooling).one_of({"mean", "last"});
  io.section("info_nce", c.info_nce);
  io.field("gather_negatives", c.gather_negatives);
  io.field("lm_weight", c.lm_weight).at_least(0.0);
  io.field("lm_target", c.lm_target).one_of({"answer", "history"});
  io.field("answer_prefix", c.answer_prefix);
  io.section("projection", c.projection);
  io.section("soft_prompt", c.soft_prompt);
  io.field("batch_size", c.batch_size).at_least(2);
  io.field("epochs", c.epochs).at_least(1);
  io.field("max_steps", c.max_steps).at_least(0);
  io.section("optimizer", c.optimizer);
  io.section("schedule", c.schedule);
  io.section("lora", c.lora);
  io.field("log_every", c.log_every).at_least(1);
  io.field("save_every", c.save_every).at_least(0);
  io.field("keep_checkpoints", c.keep_checkpoints).at_least(0);
  io.field("seed", c.seed);
  io.field("threads", c.threads).at_least(0);
  if (io.reading() && c.soft_prompt.enabled && c.lora.enabled) {
    io.fail("lora.enabled", "soft-prompt training keeps the model frozen; give a trained adapter as `adapter`");
  }
  if (io.reading() && !c.adapter.empty() && !c.soft_prompt.enabled) {
    io.fail("adapter", "only used with soft_prompt.enabled (to continue LoRA training, resume the run)");
  }
  if (io.reading() && c.soft_prompt.enabled && c.projection.enabled && c.projection.init.empty()) {
    io.fail("projection.init", "soft-prompt training needs the trained head (or projection.enabled = false)");
  }
}

}  // namespace upm
