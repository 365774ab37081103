#include "baseline.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

#include <torch/torch.h>

#include "upm/core/allocator.h"
#include "upm/core/log.h"
#include "upm/model/cpu_threads.h"

namespace upm::bench {

namespace {

// A bench's standard output is its JSON alone: the library's log lines
// (model loading, job progress) go to standard error, as in the tools. The
// allocator is tuned as every tool's start tunes it (core/allocator.h):
// without it, large tensors are fresh pages from the kernel at each
// allocation, and a quarter of a profiling run went to zeroing them.
[[maybe_unused]] const bool kProcessLikeTheTools = [] {
  init_logging(LogOptions{});
  tune_allocator();
  return true;
}();
void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

Clock g_clock = Clock::wall;

double now_seconds() {
  if (g_clock == Clock::process_cpu) return double(std::clock()) / CLOCKS_PER_SEC;
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void set_clock(Clock clock) { g_clock = clock; }
Clock clock_in_use() { return g_clock; }

double time_median(const std::function<void()>& fn, int reps, int warmup, const c10::Device& device) {
  for (int i = 0; i < warmup; ++i) fn();
  synchronize(device);
  std::vector<double> seconds;
  for (int i = 0; i < reps; ++i) {
    const double start = now_seconds();
    fn();
    synchronize(device);
    seconds.push_back(now_seconds() - start);
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

double peak_gemm_gflops(c10::ScalarType dtype, const c10::Device& device, int max_n) {
  c10::InferenceMode guard;
  double best = 0;
  for (int n = 512; n <= max_n; n *= 2) {
    auto options = torch::TensorOptions().dtype(dtype).device(device);
    auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
    double s = time_median([&] { (void)torch::mm(a, b); }, 5, 2, device);
    best = std::max(best, 2.0 * n * n * double(n) / s / 1e9);
  }
  return best;
}

double memory_read_gbps(const c10::Device& device, int64_t bytes) {
  c10::InferenceMode guard;
  auto x = torch::ones({bytes / 4}, torch::TensorOptions().dtype(torch::kFloat).device(device));
  double s = time_median([&] { (void)x.sum(); }, 7, 2, device);
  return double(bytes) / s / 1e9;
}

nlohmann::json machine_baseline(const c10::Device& device) {
  return {{"device", device.str()},
          {"clock", g_clock == Clock::wall ? "wall" : "process_cpu"},
          {"threads", torch::get_num_threads()},
          {"blas_threads", upm::blas_threads()},
          {"peak_gemm_gflops_fp32", peak_gemm_gflops(torch::kFloat, device)},
          {"peak_gemm_gflops_bf16", peak_gemm_gflops(torch::kBFloat16, device)},
          {"memory_read_gbps", memory_read_gbps(device)}};
}

}  // namespace upm::bench
