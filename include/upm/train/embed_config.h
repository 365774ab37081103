#pragma once
// Every knob of Q-Anchor embedding training (`upm-train embed --config F
// --set k=v`), with its default. See docs/embed.md.

#include <cstdint>
#include <string>

#include "upm/core/config.h"
#include "upm/model/lora.h"
#include "upm/model/model_runtime.h"
#include "upm/embed/embedding_prompts.h"
#include "upm/train/info_nce.h"
#include "upm/train/lr_schedule.h"
#include "upm/train/optimizer.h"

namespace upm {

struct EmbedDataConfig {
  std::string logs;                  // user logs: the histories (required)
  std::string pairs;                 // JSONL {"user_id","query","positive"} (embed_data.h; required)
  int64_t max_positive_tokens = 64;  // a longer positive text is cut
};
void describe(ConfigIO& io, EmbedDataConfig& c);

struct EmbedHeadConfig {
  bool enabled = true;  // train the shared MLP head (Q-Anchor's projection)
  int64_t inner = 0;    // hidden width of the MLP; 0 = the model's hidden size
  int64_t out = 128;    // embedding width
  std::string init;     // start from this head file ("" = fresh, seeded); soft prompts: the frozen head
};
void describe(ConfigIO& io, EmbedHeadConfig& c);

struct SoftPromptTrainConfig {
  bool enabled = false;  // train cluster soft prompts only (LM, adapter and head frozen)
  int64_t clusters = 4;  // k of the k-means over the users' query-free embeddings
  int64_t tokens = 6;    // prompt vectors per cluster
  int64_t kmeans_iterations = 100;
};
void describe(ConfigIO& io, SoftPromptTrainConfig& c);

struct EmbedTrainConfig {
  std::string run_dir;              // output folder (required)
  std::string model;                // pretrained: HF model folder; random: config.json (required)
  std::string init = "pretrained";  // pretrained | random
  std::string tokenizer;            // "" = the model folder
  std::string adapter;              // soft prompts only: a LoRA adapter folder applied (frozen) to the model
  ModelRuntime runtime;
  EmbedDataConfig data;
  EmbeddingPromptConfig text;             // history budget, query template, <USER_EMB> marker (as upm-embed)
  std::string positive_pooling = "mean";  // mean | last: how a positive text's hidden states become one vector
  InfoNceConfig info_nce;                 // temperature 0.07, margin 0.1, negatives of three kinds
  // With several ranks, every rank's anchors and positives are negatives of
  // every row (all-gathered); false: each rank's own rows only.
  bool gather_negatives = true;
  double lm_weight = 0.1;  // weight of the next-token loss (0 = contrastive only)
  // What the next-token loss covers: `answer` (the published recipe: the
  // positive's tokens, written after history + query + answer_prefix in the
  // anchor's own forward) or `history` (the history's tokens).
  std::string lm_target = "answer";
  std::string answer_prefix = "\nAnswer: ";  // lm_target answer: text between the query (or marker) and the answer
  EmbedHeadConfig projection;
  SoftPromptTrainConfig soft_prompt;
  int64_t batch_size = 16;  // pairs per step over all ranks (a multiple of the ranks): the in-batch negatives
  int64_t epochs = 1;
  int64_t max_steps = 0;  // > 0 overrides epochs
  AdamWConfig optimizer;
  LrScheduleConfig schedule;
  LoraConfig lora;  // lora.enabled: adapters (+ head) trained, base frozen
  int64_t log_every = 1;
  int64_t save_every = 0;
  int64_t keep_checkpoints = 2;
  uint64_t seed = 0;
  int64_t threads = 0;
};
void describe(ConfigIO& io, EmbedTrainConfig& c);

}  // namespace upm
