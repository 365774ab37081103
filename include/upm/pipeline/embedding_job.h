#pragma once
// The job behind `upm-embed --model DIR --input LOGS.jsonl --queries Q.jsonl
// --output EMB`: loads the model folder (weights + tokenizer), reads and
// validates the user logs (strict: the first bad line is an InputError
// naming file:line: field) and the queries, embeds every (user, query) with
// one history prefill per user, and writes EMB.safetensors +
// EMB.index.jsonl (embedding_io.h). Rows are user-major in input order:
// for each user, its queries in file order, then "@history_mean" when
// embedder.mean_pooled is set.

#include <cstdint>
#include <string>

#include "upm/core/config.h"
#include "upm/model/model_runtime.h"
#include "upm/pipeline/embedder.h"
#include "upm/pipeline/embedding_prompts.h"

namespace upm {

struct EmbedJobConfig {
  ModelRuntime runtime;
  EmbeddingPromptConfig text;
  EmbedderSettings embedder;
  std::string projection;  // safetensors of the MLP head (embedding_projection.h); "" = none
  std::string adapter;     // a PEFT LoRA adapter folder applied to the model (upm-train embed with lora); "" = none
  std::string soft_prompts;  // cluster soft prompts (soft_prompts.h); "" = none
};

inline void describe(ConfigIO& io, EmbedJobConfig& c) {
  io.section("runtime", c.runtime);
  io.section("text", c.text);
  io.section("embedder", c.embedder);
  io.field("projection", c.projection);
  io.field("adapter", c.adapter);
  io.field("soft_prompts", c.soft_prompts);
}

struct EmbedJobPaths {
  std::string model;    // HF model folder
  std::string input;    // user logs JSONL
  std::string queries;  // queries JSONL
  std::string output;   // EMB prefix
};

struct EmbedJobReport {
  int64_t users = 0;
  int64_t rows = 0;
  int64_t dim = 0;
  int64_t history_tokens = 0;   // summed over users
  int64_t events_dropped = 0;   // oldest events left out for the budget, summed
  std::string marker;           // "token:<USER_EMB>" or "last_query_token"
  double seconds = 0.0;
};

EmbedJobReport run_embedding_job(const EmbedJobPaths& paths, const EmbedJobConfig& config);

}  // namespace upm
