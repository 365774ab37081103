#pragma once
// The job behind `upm-embed --model DIR --input LOGS.jsonl --queries Q.jsonl
// --output EMB`: loads the model folder (weights + tokenizer), reads and
// validates the user logs (strict: the first bad line is an InputError
// naming file:line: field) and the queries, embeds every (user, query) with
// one history prefill per user, and writes EMB.safetensors +
// EMB.index.jsonl (embedding_io.h). Rows are user-major in input order:
// for each user, its queries in file order, then "@history_mean" when
// embedder.mean_pooled is set. Every `chunk_users` users the finished ones
// are saved under EMB.partial/ (embedding_partial.h): a killed job rerun with
// the same settings continues after the last saved user, with no user twice.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/model/model_runtime.h"
#include "upm/embed/embedder.h"
#include "upm/embed/embedding_prompts.h"

namespace upm {

// The paths may be left out of a config file (one file of knobs serves many
// inputs) but the job needs them: --model, --input, --queries and --output set them.
struct EmbedJobConfig {
  std::string model;    // HF model folder (weights + tokenizer)
  std::string input;    // user logs JSONL
  std::string queries;  // queries JSONL
  std::string output;   // EMB prefix: EMB.safetensors, EMB.index.jsonl
  ModelRuntime runtime;
  EmbeddingPromptConfig text;
  EmbedderSettings embedder;
  std::string projection;     // safetensors of the MLP head (embedding_projection.h); "" = none
  std::string adapter;        // a PEFT LoRA adapter folder applied to the model (upm-train embed with lora); "" = none
  std::string soft_prompts;   // cluster soft prompts (soft_prompts.h); "" = none
  int64_t chunk_users = 256;  // users per saved chunk (resume granularity); 0 = save nothing until the end
};

inline void describe(ConfigIO& io, EmbedJobConfig& c) {
  io.field("model", c.model);
  io.field("input", c.input);
  io.field("queries", c.queries);
  io.field("output", c.output);
  io.section("runtime", c.runtime);
  io.section("text", c.text);
  io.section("embedder", c.embedder);
  io.field("projection", c.projection);
  io.field("adapter", c.adapter);
  io.field("soft_prompts", c.soft_prompts);
  io.field("chunk_users", c.chunk_users).at_least(0);
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
  int64_t history_tokens = 0;  // summed over the users this run embedded
  int64_t events_dropped = 0;  // oldest events left out for the budget, summed likewise
  std::string marker;          // "token:<USER_EMB>" or "last_query_token"
  double seconds = 0.0;
  int64_t resumed_users = 0;  // users loaded from EMB.partial/ instead of embedded
  bool stopped = false;       // stop_after_users reached: EMB not written yet
};

struct EmbedJobControl {
  // > 0: stop once this run has saved at least this many users (whole
  // chunks), leaving EMB.partial/ to resume from: a kill at a known point.
  int64_t stop_after_users = 0;
};

// InputError when config.model, input, queries or output is empty.
EmbedJobReport run_embedding_job(const EmbedJobConfig& config, const EmbedJobControl& control = {});
// The same with the paths apart from the knobs (they replace config's).
EmbedJobReport run_embedding_job(const EmbedJobPaths& paths, const EmbedJobConfig& config,
                                 const EmbedJobControl& control = {});

// The one-line summary `upm-embed` prints: every field of the report.
nlohmann::json embed_job_summary(const EmbedJobReport& report);

}  // namespace upm
