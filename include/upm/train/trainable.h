#pragma once
// What every trainer (SFT, GRPO, embedding training) sets up alike: CPU
// threads, the resume point and the run folder; the model and what of it
// trains (every weight, or LoRA adapters over a frozen base); AdamW over the
// trained tensors; a fresh seed or the checkpoint's optimizer and RNG state;
// rank 0's trained tensors on every rank; the model files of a checkpoint and
// of final/. A recipe keeps only what is its own (GRPO's frozen reference,
// the embedding head) and adds its files through `extra_files`.
//
//   RunStart run = start_run(config.run_dir, config_to_json(config), config.threads, resume, writer);
//   Trainable t(trainable_settings(config), build_model(trainable_settings(config)));
//   t.attach_weights(run.resume_from);
//   t.make_optimizer(t.weights());
//   TrainerState state = start_state(t.optimizer(), run.resume_from, config.seed, dist);
//   hooks.write_model = [&](const std::string& dir) { t.write_model_files(dir); };

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "upm/core/file_lock.h"
#include "upm/model/lora.h"
#include "upm/model/model_runtime.h"
#include "upm/train/checkpoint.h"
#include "upm/train/optimizer.h"

namespace upm {

class CausalLM;
class Distributed;

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct TrainableSettings {
  std::string model;                // pretrained: HF model folder; random: config.json or a folder with one
  std::string init = "pretrained";  // pretrained | random
  std::string tokenizer;            // "" = the model folder
  ModelRuntime runtime;
  LoraConfig lora;  // lora.enabled: adapters train, the base stays frozen
  AdamWConfig optimizer;
  uint64_t seed = 0;  // random init, LoRA init
};

// The settings of a trainer config that spells tokenizer, runtime, lora,
// optimizer and seed; the model folder and init as given (GRPO's policy).
template <class Config>
TrainableSettings trainable_settings(const Config& config, std::string model, std::string init) {
  TrainableSettings settings;
  settings.model = std::move(model);
  settings.init = std::move(init);
  settings.tokenizer = config.tokenizer;
  settings.runtime = config.runtime;
  settings.lora = config.lora;
  settings.optimizer = config.optimizer;
  settings.seed = config.seed;
  return settings;
}

// ... and the config's own model and init (SFT, embedding training).
template <class Config>
TrainableSettings trainable_settings(const Config& config) {
  return trainable_settings(config, config.model, config.init);
}

struct RunStart {
  std::optional<std::string> resume_from;  // the checkpoint folder a resumed run starts from
  FileLock lock;                           // RUN_DIR held by this process (the writer) until the run ends
};

// Sets the CPU threads (`threads` > 0), finds the checkpoint to resume
// (checkpoint_to_resume) and, on the writer, prepares RUN_DIR with the
// resolved config.
RunStart start_run(const std::string& run_dir, const nlohmann::json& resolved_config, int64_t threads, bool resume,
                   bool writer);

// The model of `settings`: fresh random weights (seeded) or the pretrained folder.
std::shared_ptr<CausalLM> build_model(const TrainableSettings& settings);

// The model of a run and the part of it that trains.
class Trainable {
 public:
  Trainable(TrainableSettings settings, std::shared_ptr<CausalLM> model);
  ~Trainable();
  Trainable(const Trainable&) = delete;
  Trainable& operator=(const Trainable&) = delete;

  // LoRA: the checkpoint's adapters, or fresh ones seeded by settings.seed,
  // in training mode; full fine-tuning: the checkpoint's weights (a fresh run
  // keeps the model as built).
  void attach_weights(const std::optional<std::string>& resume_from);
  // The tensors attach_weights made trainable: the adapters', or every weight.
  NamedTensors weights() const;
  // AdamW over `params` (weights(), a recipe's head, soft prompts, ...).
  void make_optimizer(NamedTensors params);
  // The adapters' dropout on or off (nothing to do for full fine-tuning).
  void set_training(bool on);

  // The model folder (full) or PEFT adapter (LoRA), then `extra_files`, then
  // the tokenizer files, into `dir` (a checkpoint or final/).
  void write_model_files(const std::string& dir) const;
  std::function<void(const std::string& dir)> extra_files;

  const TrainableSettings& settings() const { return settings_; }
  // The tokenizer file or folder: settings.tokenizer, else the model folder.
  const std::string& tokenizer_path() const { return tokenizer_path_; }
  CausalLM& model() const { return *model_; }
  const std::shared_ptr<CausalLM>& shared_model() const { return model_; }
  Lora* lora() const { return lora_.get(); }
  AdamW& optimizer() const { return *optimizer_; }

 private:
  TrainableSettings settings_;
  std::string tokenizer_path_;
  std::shared_ptr<CausalLM> model_;
  std::unique_ptr<Lora> lora_;
  std::unique_ptr<AdamW> optimizer_;
};

// A resumed run's state (the optimizer and the RNG restored from the
// checkpoint) or a fresh one (the RNG seeded with `fresh_seed` when given: a
// recipe that seeded before building its trained tensors passes none); then
// rank 0's optimized tensors on every rank (`dist` null: one process).
TrainerState start_state(AdamW& optimizer, const std::optional<std::string>& resume_from,
                         std::optional<uint64_t> fresh_seed, Distributed* dist);

}  // namespace upm
