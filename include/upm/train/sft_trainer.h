#pragma once
// The SFT loop: data -> batch plan -> sft_train_step per optimizer step,
// with metrics, periodic eval, checkpoints and exact resume. Full fine-tuning
// or LoRA; one process or data-parallel ranks.
//
//   auto config = load_config<SftConfig>("configs/sft_tiny.json", {"max_steps=10"});
//   SftResult r = run_sft(config);          // RUN_DIR/final is the trained model
//
// RUN_DIR: config.json (resolved), log.txt, metrics.jsonl,
// checkpoints/step-N/ (see checkpoint.h), final/ (a model folder, or the PEFT
// adapter for LoRA). Only rank 0 writes.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "upm/train/sft_config.h"
#include "upm/train/sft_data.h"

namespace upm {

class CausalLM;
class Distributed;

struct SftRunOptions {
  bool resume = false;           // continue from the newest checkpoint of config.run_dir
  int64_t stop_after_steps = 0;  // > 0: checkpoint and return once this step is done (staged runs)
  Distributed* dist = nullptr;   // data-parallel group; null = one process
};

struct SftResult {
  int64_t steps = 0;  // optimizer steps done in total
  double last_loss = std::numeric_limits<double>::quiet_NaN();
  double eval_loss = std::numeric_limits<double>::quiet_NaN();
  std::string output_dir;  // final/ or the stop checkpoint
};

SftResult run_sft(const SftConfig& config, const SftRunOptions& options = {});

// Mean NLL per target token of `examples` (sharded over ranks when `dist`).
double sft_eval_loss(CausalLM& model, const std::vector<SftExample>& examples, int64_t batch_size, Distributed* dist);

}  // namespace upm
