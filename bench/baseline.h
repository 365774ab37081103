#pragma once
// Machine baselines measured in the same run as a benchmark, so that results
// are reported as ratios (achieved / peak) rather than raw numbers.

#include <functional>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>
#include "upm/core/source_dir.h"

namespace upm {
class CausalLM;
}

namespace upm::bench {

// What time_median measures. `process_cpu` (CPU seconds of this process, all
// threads) keeps figures meaningful on a machine shared with other jobs,
// where wall time mostly measures waiting for a core.
enum class Clock { wall, process_cpu };
void set_clock(Clock clock);
Clock clock_in_use();
// Seconds on the clock in use (an arbitrary origin: subtract two readings).
double now_seconds();

// Median seconds of `reps` calls of `fn` after `warmup` calls. Synchronises
// CUDA around each call when `device` is CUDA.
double time_median(const std::function<void()>& fn, int reps, int warmup, const c10::Device& device);

// Best square-matmul throughput (GFLOP/s) over sizes up to `max_n` in `dtype`.
double peak_gemm_gflops(c10::ScalarType dtype, const c10::Device& device, int max_n = 2048);

// Streaming read bandwidth (GB/s): summing a buffer far larger than caches.
double memory_read_gbps(const c10::Device& device, int64_t bytes = int64_t(512) << 20);

// The project's Python (./run setup's environment: torch and the Hugging Face
// libraries the Python peers run on).
inline std::string project_python() { return upm::source_dir() + "/.venv/bin/python"; }

// Runs a shell `command` (a peer script) and parses its standard output as
// one JSON object; {"error", "output"} when it fails or prints something else.
nlohmann::json run_json_command(const std::string& command);

// Weight bytes one decode step streams: every layer and the LM head (the
// embedding matrix only when the head is tied to it).
double decode_weight_bytes(const upm::CausalLM& model);

// {"device", "threads", "peak_gemm_gflops_fp32", "peak_gemm_gflops_bf16", "memory_read_gbps"}.
nlohmann::json machine_baseline(const c10::Device& device);

}  // namespace upm::bench
