#pragma once
// The options every model-running subcommand of upm-infer shares.

#include <string>

#include <CLI/CLI.hpp>

#include "upm/model/model_runtime.h"

namespace upm::infer_tool {

inline void add_model_options(CLI::App& cmd, std::string& model, ModelRuntime& runtime) {
  cmd.add_option("--model", model, "model folder (config.json + safetensors)")->required();
  cmd.add_option("--device", runtime.device, "cpu, cuda, cuda:N")->capture_default_str();
  cmd.add_option("--dtype", runtime.dtype, "float32, bfloat16, float16, auto (the checkpoint's)")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16", "auto"}))
      ->capture_default_str();
}

}  // namespace upm::infer_tool
