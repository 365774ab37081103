#include "baseline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "upm/core/allocator.h"
#include "upm/core/log.h"
#include "upm/model/causal_lm.h"
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
}  // namespace

double now_seconds() {
  if (g_clock == Clock::process_cpu) return double(std::clock()) / CLOCKS_PER_SEC;
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

nlohmann::json run_json_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {{"error", "cannot start " + command}};
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  const int status = pclose(pipe);
  if (status != 0)
    return {{"error", "exited with status " + std::to_string(status) + ": " + command}, {"output", text}};
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return {{"error", "not one JSON object: " + command}, {"output", text}};
  return parsed;
}

double decode_weight_bytes(const upm::CausalLM& model) {
  double bytes = 0;
  for (const auto& [name, t] : model.hf_tensors()) {
    if (name != "model.embed_tokens.weight" || model.config().tie_word_embeddings)
      bytes += double(t.numel()) * t.element_size();
  }
  return bytes;
}

namespace {

// The CPU's model name and the vector / matrix extensions the kernels pick
// by (the machines that run the benches differ: AVX-512 with bf16, AMX or
// neither), from /proc/cpuinfo; empty where it cannot be read.
nlohmann::json cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  nlohmann::json extensions = nlohmann::json::array();
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_first_of(" \t"));
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model" && line.rfind("model name", 0) == 0 && model.empty()) model = value;
    if (key == "flags") {
      std::istringstream flags(value);
      for (std::string f; flags >> f;) {
        if (f == "avx2" || f == "avx512f" || f == "avx512_bf16" || f == "avx512_fp16" || f == "amx_bf16" ||
            f == "amx_int8")
          extensions.push_back(f);
      }
      break;
    }
  }
  return {{"model", model}, {"extensions", extensions}};
}

}  // namespace

nlohmann::json machine_baseline(const c10::Device& device) {
  return {{"device", device.str()},
          {"cpu", cpu_description()},
          {"clock", g_clock == Clock::wall ? "wall" : "process_cpu"},
          {"threads", torch::get_num_threads()},
          {"blas_threads", upm::blas_threads()},
          {"peak_gemm_gflops_fp32", peak_gemm_gflops(torch::kFloat, device)},
          {"peak_gemm_gflops_bf16", peak_gemm_gflops(torch::kBFloat16, device)},
          {"memory_read_gbps", memory_read_gbps(device)}};
}

}  // namespace upm::bench
