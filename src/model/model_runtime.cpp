#include "upm/model/model_runtime.h"

#include <torch/cuda.h>

#include "upm/core/error.h"
#include "upm/model/model_config.h"

namespace upm {

c10::Device runtime_device(const ModelRuntime& runtime) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(runtime.device);
  } catch (const std::exception&) {
    throw InputError(Location{"", 0, "runtime.device"},
                     "malformed device \"" + runtime.device + "\" (expected cpu, cuda or cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw InputError(Location{"", 0, "runtime.device"},
                     "\"" + runtime.device + "\" asked, but no CUDA device is available to this LibTorch");
  }
  return device;
}

c10::ScalarType dtype_from_name(const std::string& name) {
  if (name == "float32") return c10::kFloat;
  if (name == "bfloat16") return c10::kBFloat16;
  if (name == "float16") return c10::kHalf;
  throw InputError(Location{"", 0, "dtype"},
                   "unsupported dtype \"" + name + "\" (supported: float32, bfloat16, float16)");
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kFloat: return "float32";
    case c10::kBFloat16: return "bfloat16";
    case c10::kHalf: return "float16";
    default: return c10::toString(dtype);
  }
}

c10::ScalarType runtime_dtype(const ModelRuntime& runtime, const ModelConfig& config) {
  return dtype_from_name(runtime.dtype == "auto" ? config.torch_dtype : runtime.dtype);
}

}  // namespace upm
