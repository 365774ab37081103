#pragma once
// Hugging Face transformers / peft as a peer: tools/reference/hf_logits.py
// run by the project's Python environment (source_dir()/.venv, made by
// ./run setup; UPM_PEER_PYTHON overrides the interpreter) on a folder UPM
// wrote. A missing environment or a folder the peer refuses fails the test.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "upm/model/safetensors.h"
#include "upm/core/source_dir.h"

namespace upm::test {

inline std::string peer_python() {
  const char* env = std::getenv("UPM_PEER_PYTHON");
  return env && *env ? env : upm::source_dir() + "/.venv/bin/python";
}

// "1,2,3;4,5,6" for an int64 [B, T] tensor.
inline std::string ids_argument(const torch::Tensor& ids) {
  torch::Tensor c = ids.to(torch::kLong).contiguous().view({ids.size(0), -1});
  std::string out;
  for (int64_t b = 0; b < c.size(0); ++b) {
    if (b) out += ";";
    for (int64_t t = 0; t < c.size(1); ++t) out += (t ? "," : "") + std::to_string(c[b][t].item<int64_t>());
  }
  return out;
}

// Logits [B, T, V] (fp32) that transformers computes for `ids` with the
// model folder `model_dir` (plus peft's loading of `adapter_dir` if given);
// `scratch` is a file path for the peer's output.
inline torch::Tensor hf_logits(const std::string& model_dir, const torch::Tensor& ids, const std::string& scratch,
                               const std::string& adapter_dir = "") {
  std::string command = peer_python() + " " + upm::source_dir() + "/tools/reference/hf_logits.py '" + model_dir +
                        "' --ids '" + ids_argument(ids) + "' --output '" + scratch + "'";
  if (!adapter_dir.empty()) command += " --adapter '" + adapter_dir + "'";
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("the transformers peer failed (" + command + "):\n" + output +
                             "\n(is the Python environment made? ./run setup)");
  }
  SafetensorsFile file(scratch);
  return file.tensor("logits").clone();
}

}  // namespace upm::test
