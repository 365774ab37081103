#include "upm/model/model_runtime.h"

#include <torch/cuda.h>

#include "upm/core/error.h"
#include "upm/core/rank_env.h"
#include "upm/model/model_config.h"
#include "upm/model/rank_device.h"

namespace upm {

c10::Device runtime_device(const ModelRuntime& runtime) {
  // LOCAL_RANK is read only when it matters: a CUDA device without an index.
  const bool needs_rank = runtime.device == "cuda";
  const int local_rank = needs_rank ? rank_env_from_environment().local_rank : 0;
  const bool wants_cuda = runtime.device.rfind("cuda", 0) == 0;
  return device_for_rank(runtime.device, local_rank, wants_cuda ? torch::cuda::device_count() : 0);
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
