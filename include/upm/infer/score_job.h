#pragma once
// `upm-infer score`: per-token log-probs of token sequences, JSONL in, JSONL out.
//   in:  {"ids": [...]} or {"text": "..."} per line (text: encoded by the model
//        folder's tokenizer, with the special tokens it adds, e.g. a BOS)
//   out: {"ids": [...], "logprobs": [...]}, logprobs[i] = log p(ids[i+1] | ids[0..i])

#include <cstdint>
#include <string>

#include "upm/model/model_runtime.h"

namespace upm {

struct ScoreJob {
  std::string model;  // model folder (config.json + safetensors; the tokenizer only for {"text"} lines)
  ModelRuntime runtime;
  std::string input;   // JSONL, read strictly: a bad line is an InputError naming file:line: field
  std::string output;  // JSONL, written atomically once every sequence is scored
  int64_t batch = 8;   // sequences per forward pass
};

void run_score_job(const ScoreJob& job);

}  // namespace upm
