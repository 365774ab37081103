#pragma once
// Hugging Face model folders <-> CausalLM. Loading is strict (nanoGPT's
// from_pretrained, llama.cpp's loader): a missing, unused or mis-shaped
// tensor is an error naming it. Tensors are copied straight from the mapped
// files into the parameters (converting dtype and device on the way), so the
// weights are never held twice in memory.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "upm/model/causal_lm.h"
#include "upm/model/model_runtime.h"
#include "upm/model/safetensors_folder.h"

namespace upm {

// Fills every parameter of `model` from the safetensors in `dir`.
void load_weights(CausalLM& model, const std::string& dir);

// config.json + weights of `dir` -> a model on runtime's device and dtype.
std::shared_ptr<CausalLM> load_pretrained(const std::string& dir, const ModelRuntime& runtime = {});

struct SaveOptions {
  uint64_t max_shard_bytes = kDefaultMaxShardBytes;
  // Written as generation_config.json; null: derived from the config's token ids.
  nlohmann::json generation_config;
};

// Writes config.json (torch_dtype = the model's dtype), the weights
// (model.safetensors, or shards + index) and generation_config.json.
void save_pretrained(const CausalLM& model, const std::string& dir, const SaveOptions& options = {});

}  // namespace upm
