#include "upm/model/rank_device.h"

#include "upm/core/error.h"

namespace upm {

c10::Device device_for_rank(const std::string& name, int local_rank, int cuda_devices) {
  const Location where{"", 0, "runtime.device"};
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(name);
  } catch (const std::exception&) {
    throw InputError(where, "malformed device \"" + name + "\" (expected cpu, cuda or cuda:N)");
  }
  if (!device.is_cuda()) return device;
  if (cuda_devices <= 0) {
    throw InputError(where, "\"" + name + "\" asked, but no CUDA device is available to this LibTorch");
  }
  const bool from_rank = !device.has_index();
  const int index = from_rank ? local_rank : device.index();
  if (index >= cuda_devices) {
    throw InputError(where, "\"" + name + "\" means cuda:" + std::to_string(index) +
                                (from_rank ? " (this rank's LOCAL_RANK)" : "") + ", but this machine shows " +
                                std::to_string(cuda_devices) + " CUDA device(s)" +
                                (from_rank ? "; launch at most that many ranks per node" : ""));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace upm
