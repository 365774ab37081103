// Peak memory of one training or prefill step at a real model's shapes (by
// default Qwen3-8B, configs/models/qwen3-8b/config.json) with random weights:
// the measured side of the memory table in configs/qwen3-8b/README.md.
//
//   upm-bench-memory [--config PATH] [--mode sft-lora|prefill] [--seq 256] [--batch 1]
//                    [--rank 16] [--dropout 0] [--dtype bfloat16]
//
// Measured on the CPU, where the tensors are the same ones a CUDA run holds
// (weights, LoRA states, activations kept for backward, logits), as the
// process's resident memory: the step's peak (VmHWM after resetting it) minus
// the memory held once the model was built. A CUDA run adds its context and
// caching-allocator slack on top. One shape per process, so peaks do not mix.
// Random tokens; in sft-lora mode the second half of each row is trained.
#include <malloc.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include "bench_args.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"
#include "upm/model/lora.h"
#include "upm/model/model_config.h"
#include "upm/model/model_runtime.h"
#include "upm/train/optimizer.h"
#include "upm/train/sft_step.h"

namespace {

using upm::bench::arg;

// kB from /proc/self/status ("VmRSS", "VmHWM").
double status_gib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream fields(line.substr(field.size() + 1));
      double kb = 0;
      fields >> kb;
      return kb / (1024.0 * 1024.0);
    }
  }
  return -1.0;
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so
// the next reading is the peak of what ran since.
bool reset_peak() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  return bool(out);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  // A fixed mmap threshold: every large tensor gets its own mapping and goes
  // back to the system when freed, so resident memory follows the live
  // tensors (glibc's adaptive threshold would keep freed activations in the
  // heap and count them again at the next peak).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  const std::string config_path = arg(argc, argv, "--config", std::string(UPM_SOURCE_DIR) + "/configs/models/qwen3-8b/config.json");
  const std::string mode = arg(argc, argv, "--mode", "sft-lora");
  const int64_t seq = arg(argc, argv, "--seq", int64_t(256));
  const int64_t batch = arg(argc, argv, "--batch", int64_t(1));
  const int64_t rank = arg(argc, argv, "--rank", int64_t(16));
  const double dropout = std::stod(arg(argc, argv, "--dropout", "0"));
  if (mode != "sft-lora" && mode != "prefill") {
    std::cerr << "--mode must be sft-lora or prefill\n";
    return 2;
  }
  upm::ModelRuntime runtime;
  runtime.dtype = arg(argc, argv, "--dtype", "bfloat16");
  const upm::ModelConfig config = upm::load_model_config(config_path);

  nlohmann::json out;
  out["config"] = config_path;
  out["shape"] = {{"mode", mode}, {"batch", batch}, {"seq", seq}, {"dtype", runtime.dtype},
                  {"lora_rank", rank}, {"lora_dropout", dropout}, {"threads", torch::get_num_threads()}};
  const double rss_start = status_gib("VmRSS");

  // Uninitialised weights filled in place (values do not matter here):
  // InitMode::random draws each tensor in fp32 first, 2.3 GiB for the
  // embedding alone, which would set the process's peak before any step.
  upm::CausalLM model(config, runtime, upm::InitMode::empty);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model.parameters()) p.normal_(0.0, config.initializer_range);
  }
  const int64_t params = upm::parameter_count(config);
  const double rss_model = status_gib("VmRSS");
  out["model"] = {{"parameters", params},
                  {"weights_gib", double(params) * model.hf_tensors().front().second.element_size() / (1 << 30)},
                  {"rss_after_build_gib", rss_model - rss_start}};

  auto ids = torch::randint(3, config.vocab_size, {batch, seq}, torch::kLong);
  auto start = std::chrono::steady_clock::now();
  if (mode == "sft-lora") {
    upm::LoraConfig lora_config;
    lora_config.enabled = true;
    lora_config.rank = rank;
    lora_config.alpha = 2.0 * double(rank);
    lora_config.dropout = dropout;  // a dropped copy of each adapter's input is kept for backward
    lora_config.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    upm::Lora lora(model, lora_config, 0);
    lora.train(true);
    upm::AdamWConfig adam;
    upm::AdamW optimizer(lora.parameters(), adam);
    int64_t adapter_params = 0;
    for (const auto& [name, tensor] : lora.parameters()) adapter_params += tensor.numel();
    // The second half of each row is the completion (trained), as in SFT rows.
    std::vector<upm::SftExample> examples(batch);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t t = 0; t < seq; ++t) {
        examples[b].ids.push_back(ids[b][t].item<int64_t>());
        examples[b].target.push_back(t >= seq / 2);
      }
    }
    std::vector<const upm::SftExample*> rows;
    for (auto& ex : examples) rows.push_back(&ex);
    std::vector<upm::SftBatch> micro{upm::collate_sft(rows, torch::kCPU)};
    const double rss_before = status_gib("VmRSS");
    const bool peak_reset = reset_peak();
    upm::sft_train_step(model, optimizer, micro, micro[0].target_tokens, 1e-4, 1.0, nullptr);
    out["step"] = {{"adapter_parameters", adapter_params},
                   {"peak_reset", peak_reset},
                   {"peak_above_model_gib", status_gib("VmHWM") - rss_model},
                   {"held_after_step_gib", status_gib("VmRSS") - rss_before},
                   {"cpu_step_s", seconds_since(start)}};
  } else {
    // As upm-profile prefills: into a KV cache, logits at the last position only.
    c10::InferenceMode inference;
    const bool peak_reset = reset_peak();
    upm::KVCache cache(config, batch, seq, upm::runtime_dtype(runtime, config), torch::kCPU);
    const double cache_gib = status_gib("VmRSS") - rss_model;
    upm::ForwardInput in;
    in.input_ids = ids;
    in.cache = &cache;
    in.logits_for = upm::LogitsFor::last;
    model.forward(in);
    out["step"] = {{"peak_reset", peak_reset},
                   {"kv_cache_gib", cache_gib},
                   {"peak_above_model_gib", status_gib("VmHWM") - rss_model},
                   {"cpu_step_s", seconds_since(start)}};
  }
  out["peak_rss_gib"] = status_gib("VmHWM") - rss_start;
  std::cout << out.dump(2) << std::endl;
}
