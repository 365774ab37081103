#pragma once
// Training checkpoints: RUN_DIR/checkpoints/step-NNNNNNNN/ holding
//   the model as a Hugging Face folder (config.json, model.safetensors, ...)
//     or, for LoRA, the PEFT adapter (adapter_config.json, adapter_model.safetensors);
//   tokenizer files copied beside it (so the folder is usable as is);
//   optimizer.safetensors  AdamW moments and fp32 masters (see optimizer.h);
//   rng.safetensors        the CPU generator state (dropout);
//   trainer_state.json     {"step", "epoch", "batch" (data position), "optimizer_steps"}.
// A checkpoint is built in a hidden temporary folder and renamed into place,
// so a step-N folder is always complete; a kill leaves at most a stale
// temporary, removed by the next save.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "upm/train/batch_plan.h"

namespace upm {

class AdamW;

struct TrainerState {
  int64_t step = 0;  // optimizer steps done
  DataPosition position;
};

// Writes a checkpoint for `state.step` under `checkpoints_dir`. `write_model`
// fills the given (temporary) folder with the model or adapter files.
// Keeps the newest `keep` checkpoints (0 = all). Returns the final folder.
std::string save_checkpoint(const std::string& checkpoints_dir, const TrainerState& state, const AdamW& optimizer,
                            const std::function<void(const std::string& dir)>& write_model, int64_t keep);

// The newest complete checkpoint folder, if any.
std::optional<std::string> latest_checkpoint(const std::string& checkpoints_dir);

// The checkpoint a run starts from: with `resume`, the newest one (an
// InputError if there is none); without, none (an InputError if the folder
// already holds checkpoints of an earlier run, which a fresh run would mix with).
std::optional<std::string> checkpoint_to_resume(const std::string& run_dir, bool resume);

// Reads trainer_state.json, restores the optimizer and the RNG state.
TrainerState load_checkpoint_state(const std::string& dir, AdamW& optimizer);

// Writes RUN_DIR/final/ through `write_model`: built beside as .final.tmp and
// renamed over, so final/ is never half there. Returns its path.
std::string write_final_model(const std::string& run_dir,
                              const std::function<void(const std::string& dir)>& write_model);

}  // namespace upm
