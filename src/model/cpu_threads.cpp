#include "upm/model/cpu_threads.h"

#include <dlfcn.h>

#include <torch/torch.h>

namespace upm {
namespace {

// One of OpenBLAS's C entry points, or null when it is not loaded.
template <typename Fn>
Fn openblas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

void set_cpu_threads(int n) {
  torch::set_num_threads(n);
  static const auto set = openblas_symbol<void (*)(int)>("openblas_set_num_threads");
  if (set) set(n);
}

int blas_threads() {
  static const auto get = openblas_symbol<int (*)()>("openblas_get_num_threads");
  return get ? get() : 0;
}

}  // namespace upm
