#pragma once
// Every knob of an SFT run (`upm-train sft --config F --set k=v`), with its
// default. See docs/train.md and configs/sft_tiny.json.

#include <cstdint>
#include <string>

#include "upm/core/config.h"
#include "upm/model/lora.h"
#include "upm/model/model_runtime.h"
#include "upm/train/lr_schedule.h"
#include "upm/train/optimizer.h"

namespace upm {

struct SftDataConfig {
  std::string train_file;             // JSONL of {"prompt","completion"} or {"messages"} rows (required)
  std::string eval_file;              // held-out rows of the same form; empty = no eval
  int64_t max_length = 1024;          // tokens per example
  std::string too_long = "truncate";  // truncate | skip | error
  int64_t bucket_batches = 8;         // length-sorting window, in global batches (1 = no bucketing)
  // {"messages"} rows: a template name (qwen3, chatml, llama3, ...; see
  // text/chat_template.h); empty = the model folder's own template.
  std::string chat_template;
};
void describe(ConfigIO& io, SftDataConfig& c);

struct SftConfig {
  std::string run_dir;              // output folder (required)
  std::string model;                // init=pretrained: HF model folder; init=random: config.json or a folder with one
  std::string init = "pretrained";  // pretrained | random (train from scratch)
  std::string tokenizer;            // tokenizer.json / .model / folder; empty = the model folder
  ModelRuntime runtime;             // device + dtype of the weights (bfloat16: fp32 masters in the optimizer)
  SftDataConfig data;
  int64_t micro_batch_size = 4;  // examples per forward/backward, per rank
  int64_t grad_accum = 1;        // micro-batches per optimizer step, per rank
  int64_t epochs = 1;
  int64_t max_steps = 0;  // > 0: stop after this many optimizer steps (overrides epochs)
  AdamWConfig optimizer;
  LrScheduleConfig schedule;
  LoraConfig lora;         // lora.enabled: train adapters only, base frozen
  int64_t log_every = 1;   // steps between metrics lines
  int64_t eval_every = 0;  // steps between evals (0: only at the end)
  int64_t eval_batch_size = 8;
  int64_t save_every = 0;        // steps between checkpoints (0: only the final one)
  int64_t keep_checkpoints = 2;  // newest kept (0: all)
  uint64_t seed = 0;             // data order, random init, LoRA init, dropout
  int64_t threads = 0;           // intra-op CPU threads (0: LibTorch's default)
};
void describe(ConfigIO& io, SftConfig& c);

}  // namespace upm
