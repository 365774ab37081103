#pragma once
// Q-Anchor embedding training (`upm-train embed`), on the shared loop
// (train_loop.h: schedule, metrics.jsonl, checkpoints, exact resume).
//
// Each step takes `batch_size` (user, query, positive) pairs (embed_data.h):
//   anchor_i   = head(h at the last token of history_i + query_i)  (the <USER_EMB> marker when the tokenizer has it)
//   positive_i = head(pool(h over the tokens of positive_i))       (mean, or last token)
//   loss = InfoNCE(anchors, positives; in-batch negatives, margin mask)
//        + lm_weight * mean next-token NLL over the histories' tokens (from the anchor forward)
// Trainable: the whole LM or LoRA adapters, plus the shared MLP head.
//
// soft_prompt.enabled: the LM (with an optional adapter) and the head are
// frozen; users are clustered by k-means over their query-free embeddings
// and only the clusters' prompt vectors (placed between history and query)
// are trained, with the InfoNCE loss alone (the history's next-token loss
// does not depend on them).
//
// RUN_DIR/final (and every checkpoint): the model folder (full) or PEFT
// adapter (LoRA) + projection.safetensors + tokenizer files; with soft
// prompts: soft_prompts.safetensors.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/train/embed_config.h"
#include "upm/train/train_loop.h"

namespace upm {

class AdamW;
class CausalLM;
struct EmbedSession;

// One run's model, head, data and optimizer; the loop's step and model files.
class EmbedTrainer {
 public:
  // Loads the model and data and builds the trainable tensors: fresh, or
  // from the checkpoint folder `resume_from` (the optimizer state is restored
  // by the loop's caller with load_checkpoint_state).
  EmbedTrainer(const EmbedTrainConfig& config, const std::optional<std::string>& resume_from);
  ~EmbedTrainer();

  // One optimizer step on the pairs `batch` (indices into the pairs file).
  StepReport step(const std::vector<int64_t>& batch, double lr);
  // Model / adapter, head, tokenizer (or soft prompts) into `dir`.
  void write_model_files(const std::string& dir) const;

  int64_t pairs() const;
  CausalLM& model();
  AdamW& optimizer();
  // The head's tensors, named "projection.fc1.weight", ... (empty without a head).
  std::vector<std::pair<std::string, torch::Tensor>> head_tensors() const;

 private:
  EmbedTrainConfig config_;
  std::unique_ptr<EmbedSession> s_;
};

struct EmbedRunOptions {
  bool resume = false;           // continue from the newest checkpoint of config.run_dir
  int64_t stop_after_steps = 0;  // > 0: checkpoint and return after this step
};

struct EmbedTrainResult {
  int64_t steps = 0;
  double last_loss = std::numeric_limits<double>::quiet_NaN();
  std::string output_dir;  // final/ or the stop checkpoint
};

EmbedTrainResult run_embed_training(const EmbedTrainConfig& config, const EmbedRunOptions& options = {});

}  // namespace upm
