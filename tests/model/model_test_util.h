#pragma once
// Shared by the model tests: the reference folders written by
// tools/reference/model_reference.py and their goldens.

#include <string>

#include <torch/torch.h>

#include "upm/model/causal_lm.h"
#include "upm/model/safetensors.h"
#include "upm/model/weights_loader.h"

namespace upm::test {

inline std::string model_dir(const std::string& family) {
  return std::string(UPM_TEST_DATA_DIR) + "/model/" + family;
}

// A tensor of <family>/golden.safetensors (copied out of the mapping).
inline torch::Tensor golden(const std::string& family, const std::string& name) {
  SafetensorsFile file(model_dir(family) + "/golden.safetensors");
  return file.tensor(name).clone();
}

inline std::shared_ptr<CausalLM> load_reference_model(const std::string& family, const std::string& dtype = "float32") {
  ModelRuntime runtime;
  runtime.dtype = dtype;
  return load_pretrained(model_dir(family), runtime);
}

inline std::vector<int64_t> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

}  // namespace upm::test
