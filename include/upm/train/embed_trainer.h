#pragma once
// Q-Anchor embedding training (`upm-train embed`), on the shared loop
// (train_loop.h: schedule, metrics.jsonl, checkpoints, exact resume).
//
// Each step takes `batch_size` (user, query, positive) pairs (embed_data.h):
//   anchor_i   = head(h at the last token of history_i + query_i)  (the <USER_EMB> marker when the tokenizer has it)
//   positive_i = head(pool(h over the tokens of positive_i))       (mean, or last token)
//   loss = InfoNCE(anchors, positives; negatives q-d, q-q, d-q (info_nce.h), margin mask)
//        + lm_weight * mean next-token NLL over the answers' tokens, written after
//          history + query in the anchor's own forward (lm_target answer), or over
//          the histories' tokens (lm_target history)
// Over several ranks each embeds its share of the batch; with
// gather_negatives every rank's rows are all ranks' negatives, and the
// summed gradients equal one process's on the whole batch.
// Trainable: the whole LM or LoRA adapters, plus the shared MLP head.
//
// soft_prompt.enabled: the LM (with an optional adapter) and the head are
// frozen; users are clustered by k-means over their query-free embeddings
// and only the clusters' prompt vectors (placed between history and query)
// are trained, with the InfoNCE loss alone (no next-token loss, whatever
// lm_target says).
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
class Distributed;
struct EmbedSession;

// One run's model, head, data and optimizer; the loop's step and model files.
class EmbedTrainer {
 public:
  // Loads the model and data and builds the trainable tensors: fresh, or
  // from the checkpoint folder `resume_from` (the optimizer state is restored
  // by the loop's caller with load_checkpoint_state). `dist`: this process is
  // one of several ranks (null: alone); the caller makes the ranks' weights
  // equal (start_state).
  EmbedTrainer(const EmbedTrainConfig& config, const std::optional<std::string>& resume_from,
               Distributed* dist = nullptr);
  ~EmbedTrainer();

  // One optimizer step on the pairs `batch` (indices into the pairs file; the
  // whole batch of every rank, each embeds its rank_share).
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
  Distributed* dist_ = nullptr;
};

struct EmbedRunOptions {
  bool resume = false;           // continue from the newest checkpoint of config.run_dir
  int64_t stop_after_steps = 0;  // > 0: checkpoint and return after this step
  Distributed* dist = nullptr;   // data-parallel ranks (null: one process); rank 0 writes the run folder
};

struct EmbedTrainResult {
  int64_t steps = 0;
  double last_loss = std::numeric_limits<double>::quiet_NaN();
  std::string output_dir;  // final/ or the stop checkpoint
};

EmbedTrainResult run_embed_training(const EmbedTrainConfig& config, const EmbedRunOptions& options = {});

}  // namespace upm
