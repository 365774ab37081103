#pragma once
// The options every model-running subcommand of upm-infer shares.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"

namespace upm::infer_tool {

struct ModelOptions {
  std::string model;  // Hugging Face model folder
  ModelRuntime runtime;
};

inline void add_model_options(CLI::App& cmd, ModelOptions& o) {
  cmd.add_option("--model", o.model, "model folder (config.json + safetensors)")->required();
  cmd.add_option("--device", o.runtime.device, "cpu, cuda, cuda:N")->capture_default_str();
  cmd.add_option("--dtype", o.runtime.dtype, "float32, bfloat16, float16, auto (the checkpoint's)")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16", "auto"}))
      ->capture_default_str();
}

inline std::shared_ptr<CausalLM> load_model(const ModelOptions& o) { return load_pretrained(o.model, o.runtime); }

}  // namespace upm::infer_tool
