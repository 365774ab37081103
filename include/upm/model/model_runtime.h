#pragma once
// Where and in what precision a model runs: chosen per job, not part of the
// architecture (model_config.h). Embeds in any job config as a section:
//   "runtime": {"device": "cuda:0", "dtype": "bfloat16"}

#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "upm/core/config.h"

namespace upm {

struct ModelConfig;

struct ModelRuntime {
  std::string device = "cpu";      // "cpu", "cuda", "cuda:1", ...
  std::string dtype = "float32";   // float32 | bfloat16 | float16 | auto (= the checkpoint's torch_dtype)
  std::string attention = "sdpa";  // sdpa | eager (attention_kernel.h)
};

inline void describe(ConfigIO& io, ModelRuntime& r) {
  io.field("device", r.device);
  io.field("dtype", r.dtype).one_of({"float32", "bfloat16", "float16", "auto"});
  io.field("attention", r.attention).one_of({"sdpa", "eager"});
}

// The device this process runs the model on (model/rank_device.h: "cuda"
// alone is cuda:LOCAL_RANK); InputError naming runtime.device if malformed, if
// CUDA is asked of a LibTorch without a visible GPU, or if the GPU is missing.
c10::Device runtime_device(const ModelRuntime& runtime);
// The compute dtype: runtime.dtype, or the checkpoint's for "auto".
c10::ScalarType runtime_dtype(const ModelRuntime& runtime, const ModelConfig& config);

// "float32" <-> kFloat etc. (InputError for other names).
c10::ScalarType dtype_from_name(const std::string& name);
std::string dtype_name(c10::ScalarType dtype);

}  // namespace upm
