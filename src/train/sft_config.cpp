#include "upm/train/sft_config.h"

namespace upm {

void describe(ConfigIO& io, SftDataConfig& c) {
  io.field("train_file", c.train_file).required();
  io.field("eval_file", c.eval_file);
  io.field("max_length", c.max_length).at_least(2);
  io.field("too_long", c.too_long).one_of({"truncate", "skip", "error"});
  io.field("bucket_batches", c.bucket_batches).at_least(1);
  io.field("chat_template", c.chat_template);
}

void describe(ConfigIO& io, SftConfig& c) {
  io.field("run_dir", c.run_dir).required();
  io.field("model", c.model).required();
  io.field("init", c.init).one_of({"pretrained", "random"});
  io.field("tokenizer", c.tokenizer);
  if (io.reading() && c.init == "random" && c.tokenizer.empty()) {
    io.fail("tokenizer", "required with init=random (the model path is only a config)");
  }
  io.section("runtime", c.runtime);
  io.section("data", c.data);
  io.field("micro_batch_size", c.micro_batch_size).at_least(1);
  io.field("grad_accum", c.grad_accum).at_least(1);
  io.field("epochs", c.epochs).at_least(1);
  io.field("max_steps", c.max_steps).at_least(0);
  io.section("optimizer", c.optimizer);
  io.section("schedule", c.schedule);
  io.section("lora", c.lora);
  io.field("log_every", c.log_every).at_least(1);
  io.field("eval_every", c.eval_every).at_least(0);
  io.field("eval_batch_size", c.eval_batch_size).at_least(1);
  io.field("save_every", c.save_every).at_least(0);
  io.field("keep_checkpoints", c.keep_checkpoints).at_least(0);
  io.field("seed", c.seed);
  io.field("threads", c.threads).at_least(0);
}

}  // namespace upm
