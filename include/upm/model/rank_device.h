#pragma once
// Which device a job's "device" string means in this process. A launch of
// several ranks on one node (torchrun) gives each rank its own GPU: "cuda"
// without an index is cuda:LOCAL_RANK, as PyTorch scripts bind it with
// torch.cuda.set_device(local_rank); a lone process has LOCAL_RANK 0. An
// explicit "cuda:N" is kept as written. Every model a rank loads (policy,
// reference, judge, embedder) goes through this rule, so they share the
// rank's GPU.

#include <string>

#include <c10/core/Device.h>

namespace upm {

// The rule, given this process's LOCAL_RANK and the number of CUDA devices
// LibTorch sees (the caller reads both; tests pass them). InputError on the
// field "runtime.device" when the string is malformed, when CUDA is asked
// and none is visible, or when the rank's GPU does not exist.
c10::Device device_for_rank(const std::string& name, int local_rank, int cuda_devices);

}  // namespace upm
