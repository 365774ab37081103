// Peak memory of one training or prefill step at a real model's shapes (by
// default Qwen3-8B, configs/models/qwen3-8b/config.json) with random weights:
// the measured side of the memory table in configs/qwen3-8b/README.md.
//
//   upm-bench-memory [--config PATH] [--mode sft-lora|prefill] [--seq 256] [--batch 1]
//                    [--rank 16] [--dropout 0] [--dtype bfloat16] [--layers N]
//                    [--attention both|sdpa|eager]
//
// --layers keeps the config's first N decoder layers (long sequences at a big
// model's widths on a small machine). --attention both (the default) runs the
// step once per kernel (attention_kernel.h), each in a process of its own,
// and reports both with sdpa's peak and time as ratios of eager's.
//
// Measured on the CPU, where the tensors are the same ones a CUDA run holds
// (weights, LoRA states, activations kept for backward, logits), as the
// process's resident memory: the step's peak (VmHWM after resetting it) minus
// the memory held once the model was built. A CUDA run adds its context and
// caching-allocator slack on top. One shape per process, so peaks do not mix.
// Random tokens; in sft-lora mode the second half of each row is trained.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
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
#include "upm/core/source_dir.h"

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

// This program again with argv[1..] plus `--attention kernel`: its JSON.
nlohmann::json run_with_kernel(int argc, char** argv, const std::string& kernel) {
  auto quoted = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string command = quoted(std::filesystem::read_symlink("/proc/self/exe").string());
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--attention") {
      ++i;
      continue;
    }
    command += " " + quoted(argv[i]);
  }
  command += " --attention " + kernel;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {{"error", "cannot start " + command}};
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) text.append(buffer, n);
  if (pclose(pipe) != 0) return {{"error", "failed: " + command}, {"output", text}};
  return nlohmann::json::parse(text, nullptr, false);
}

// Both kernels, one process each, and sdpa / eager for the peak and the time.
int run_both(int argc, char** argv) {
  nlohmann::json out;
  for (const char* kernel : {"eager", "sdpa"}) out[kernel] = run_with_kernel(argc, argv, kernel);
  const nlohmann::json& e = out["eager"];
  const nlohmann::json& s = out["sdpa"];
  if (e.contains("step") && s.contains("step")) {
    out["sdpa_over_eager"] = {
        {"peak_above_model",
         s["step"]["peak_above_model_gib"].get<double>() / e["step"]["peak_above_model_gib"].get<double>()},
        {"cpu_step_s", s["step"]["cpu_step_s"].get<double>() / e["step"]["cpu_step_s"].get<double>()}};
  }
  std::cout << out.dump(2) << std::endl;
  return e.contains("step") && s.contains("step") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // A fixed mmap threshold: every large tensor gets its own mapping and goes
  // back to the system when freed, so resident memory follows the live
  // tensors (glibc's adaptive threshold would keep freed activations in the
  // heap and count them again at the next peak).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  const std::string config_path =
      arg(argc, argv, "--config", upm::source_dir() + "/configs/models/qwen3-8b/config.json");
  const std::string mode = arg(argc, argv, "--mode", "sft-lora");
  const int64_t seq = arg(argc, argv, "--seq", int64_t(256));
  const int64_t batch = arg(argc, argv, "--batch", int64_t(1));
  const int64_t rank = arg(argc, argv, "--rank", int64_t(16));
  const double dropout = std::stod(arg(argc, argv, "--dropout", "0"));
  const int64_t layers = arg(argc, argv, "--layers", int64_t(0));
  const std::string attention = arg(argc, argv, "--attention", "both");
  if (mode != "sft-lora" && mode != "prefill") {
    std::cerr << "--mode must be sft-lora or prefill\n";
    return 2;
  }
  if (attention != "both" && attention != "sdpa" && attention != "eager") {
    std::cerr << "--attention must be both, sdpa or eager\n";
    return 2;
  }
  if (attention == "both") return run_both(argc, argv);
  upm::ModelRuntime runtime;
  runtime.dtype = arg(argc, argv, "--dtype", "bfloat16");
  runtime.attention = attention;
  upm::ModelConfig config = upm::load_model_config(config_path);
  if (layers > 0) config.num_hidden_layers = std::min(layers, config.num_hidden_layers);

  nlohmann::json out;
  out["config"] = config_path;
  out["shape"] = {{"mode", mode},
                  {"batch", batch},
                  {"seq", seq},
                  {"dtype", runtime.dtype},
                  {"layers", config.num_hidden_layers},
                  {"attention", attention},
                  {"lora_rank", rank},
                  {"lora_dropout", dropout},
                  {"threads", torch::get_num_threads()}};
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
    start = std::chrono::steady_clock::now();
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
    start = std::chrono::steady_clock::now();
    model.forward(in);
    out["step"] = {{"peak_reset", peak_reset},
                   {"kv_cache_gib", cache_gib},
                   {"peak_above_model_gib", status_gib("VmHWM") - rss_model},
                   {"cpu_step_s", seconds_since(start)}};
  }
  out["peak_rss_gib"] = status_gib("VmHWM") - rss_start;
  std::cout << out.dump(2) << std::endl;
}
