#include "upm/train/trainable.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "upm/core/run_dir.h"
#include "upm/dist/process_group.h"
#include "upm/model/causal_lm.h"
#include "upm/model/cpu_threads.h"
#include "upm/model/lora_merge.h"
#include "upm/model/model_config.h"
#include "upm/model/weights_loader.h"

namespace upm {

RunStart start_run(const std::string& run_dir, const nlohmann::json& resolved_config, int64_t threads, bool resume,
                   bool writer) {
  if (threads > 0) set_cpu_threads(int(threads));  // torch and OpenBLAS alike
  RunStart run;
  run.resume_from = checkpoint_to_resume(run_dir, resume);
  if (writer) run.lock = prepare_run_dir(run_dir, resolved_config);
  return run;
}

std::shared_ptr<CausalLM> build_model(const TrainableSettings& settings) {
  if (settings.init == "random") {
    return std::make_shared<CausalLM>(load_model_config(settings.model), settings.runtime, InitMode::random,
                                      settings.seed);
  }
  return load_pretrained(settings.model, settings.runtime);
}

Trainable::Trainable(TrainableSettings settings, std::shared_ptr<CausalLM> model)
    : settings_(std::move(settings)),
      tokenizer_path_(settings_.tokenizer.empty() ? settings_.model : settings_.tokenizer),
      model_(std::move(model)) {}

Trainable::~Trainable() = default;

void Trainable::attach_weights(const std::optional<std::string>& resume_from) {
  if (settings_.lora.enabled) {
    lora_ = resume_from ? Lora::load(*model_, *resume_from)
                        : std::make_unique<Lora>(*model_, settings_.lora, settings_.seed);
    lora_->train(true);
  } else if (resume_from) {
    load_weights(*model_, *resume_from);
  }
}

NamedTensors Trainable::weights() const { return lora_ ? lora_->parameters() : model_->hf_tensors(); }

void Trainable::make_optimizer(NamedTensors params) {
  optimizer_ = std::make_unique<AdamW>(std::move(params), settings_.optimizer);
}

void Trainable::set_training(bool on) {
  if (lora_) lora_->train(on);
}

void Trainable::write_model_files(const std::string& dir) const {
  if (lora_) {
    // adapter_config.json names its base only when there is one to load (not a random init).
    lora_->save(dir, settings_.init == "pretrained" ? settings_.model : "");
  } else {
    save_pretrained(*model_, dir);
  }
  if (extra_files) extra_files(dir);
  copy_tokenizer_files(tokenizer_path_, dir);
}

TrainerState start_state(AdamW& optimizer, const std::optional<std::string>& resume_from,
                         std::optional<uint64_t> fresh_seed, Distributed* dist) {
  TrainerState state;
  if (resume_from) {
    state = load_checkpoint_state(*resume_from, optimizer);
    spdlog::info("resuming from {} (step {})", *resume_from, state.step);
  } else if (fresh_seed) {
    torch::manual_seed(*fresh_seed);
  }
  broadcast_params(dist, optimizer.params());
  return state;
}

}  // namespace upm
