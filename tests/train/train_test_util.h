#pragma once
// Shared fixtures of the train tests: the tiny tokenizer, the tiny SFT data
// and a config for a from-scratch model sized for them.

#include <string>

#include "test_util.h"
#include "upm/train/sft_config.h"
#include "upm/core/source_dir.h"
#include "test_paths.h"

namespace upm::test {

inline std::string data_path(const std::string& relative) { return upm::test::test_data_dir() + "/" + relative; }
inline std::string tiny_tokenizer() { return data_path("text/tiny_bpe/tokenizer.json"); }
inline std::string tiny_model_config() { return upm::source_dir() + "/configs/models/tiny-sft/config.json"; }

// A few-step full fine-tuning run from scratch on the tiny data into `run_dir`.
inline SftConfig tiny_sft_config(const std::string& run_dir) {
  SftConfig c;
  c.run_dir = run_dir;
  c.model = tiny_model_config();
  c.init = "random";
  c.tokenizer = tiny_tokenizer();
  c.data.train_file = data_path("train/sft_tiny_train.jsonl");
  c.data.eval_file = data_path("train/sft_tiny_eval.jsonl");
  c.data.max_length = 128;
  c.micro_batch_size = 2;
  c.grad_accum = 2;
  c.max_steps = 4;
  c.optimizer.lr = 3e-3;
  c.optimizer.weight_decay = 0.01;
  c.schedule.warmup_steps = 1;
  c.seed = 7;
  c.threads = 1;
  return c;
}

}  // namespace upm::test
