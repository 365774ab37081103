// upm-bench-model: prefill throughput and batch-1 decode speed of a ~100M
// parameter Llama-shaped model with random weights, in fp32 and bf16, each
// beside the machine's peak GEMM / memory bandwidth measured in this run.
// Prefill is compute-bound (ratio to peak GEMM); decode is bandwidth-bound:
// every step reads all weights once (ratio to streaming read bandwidth).
// Where the prefill's time goes: its projections alone (every layer's seven
// linears in sequence on the prompt's rows, as the forward streams their
// weights, plus the last position's LM head) against the same peak, and for
// bf16 the prefill without the fused kernels (prefill_fusion.h) in the same run.
//
//   upm-bench-model [--device cpu|cuda] [--prompt 256] [--decode 32] [--decode-batch 1] [--cpu-clock]
// --decode-batch N > 1 adds the aggregate decode tokens/s of N rows a step.
// --cpu-clock times in process CPU seconds (baselines too): on a machine
// shared with other jobs wall time mostly measures waiting for a core.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "baseline.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"
#include "upm/model/layers.h"
#include "upm/model/prefill_fusion.h"

namespace {

upm::ModelConfig bench_config() {
  upm::ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 16000;
  c.hidden_size = 768;
  c.intermediate_size = 2048;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.num_key_value_heads = 4;
  c.head_dim = 64;
  c.max_position_embeddings = 4096;
  return c;
}

// Useful FLOPs of a causal prefill of T tokens (logits for the last one only).
double prefill_flops(const upm::ModelConfig& c, int64_t T) {
  const double embeddings = double(c.vocab_size) * c.hidden_size * (c.tie_word_embeddings ? 1 : 2);
  const double matmul_params = double(upm::parameter_count(c)) - embeddings;
  const double attention =
      2.0 * 2.0 * (double(T) * T / 2.0) * c.q_size() * c.num_hidden_layers;  // QK^T and PV, causal half
  return 2.0 * matmul_params * T + attention + 2.0 * c.hidden_size * c.vocab_size;
}

// FLOPs of the projections of a T-token prefill (the LM head for one row).
double projection_flops(const upm::ModelConfig& c, int64_t T) {
  const double per_layer = double(c.hidden_size) * (c.q_size() + 2.0 * c.kv_size()) +
                           double(c.q_size()) * c.hidden_size + 3.0 * c.hidden_size * c.intermediate_size;
  return 2.0 * (per_layer * c.num_hidden_layers * T + double(c.hidden_size) * c.vocab_size);
}

// Every layer's projections in forward order on random [1, T, *] rows, then
// the LM head on one row: the prefill's GEMMs without anything between them.
void run_projections(const upm::CausalLM& model, const torch::Tensor& x, const torch::Tensor& inner) {
  for (const auto& module : *model.model->layers) {
    const auto& layer = *module->as<upm::DecoderLayer>();
    const upm::Attention& a = *layer.self_attn;
    (void)a.q_proj->forward(x);
    (void)a.k_proj->forward(x);
    (void)a.v_proj->forward(x);
    (void)a.o_proj->forward(x);
    (void)layer.mlp->gate_proj->forward(x);
    (void)layer.mlp->up_proj->forward(x);
    (void)layer.mlp->down_proj->forward(inner);
  }
  (void)model.logits(x.narrow(1, 0, 1));
}

nlohmann::json bench_dtype(const upm::ModelConfig& config, const std::string& dtype, const c10::Device& device,
                           const nlohmann::json& baseline, int64_t prompt, int64_t decode, int64_t decode_batch) {
  c10::InferenceMode guard;
  upm::ModelRuntime runtime;
  runtime.device = device.str();
  runtime.dtype = dtype;
  upm::CausalLM model(config, runtime, upm::InitMode::random, 1);
  torch::Tensor ids = torch::randint(config.vocab_size, {1, prompt}, torch::kLong);

  upm::ForwardInput in;
  in.input_ids = ids;
  in.logits_for = upm::LogitsFor::last;
  double prefill_s = upm::bench::time_median([&] { (void)model.forward(in); }, 3, 1, device);
  double prefill_gflops = prefill_flops(config, prompt) / prefill_s / 1e9;
  const auto options = torch::TensorOptions().dtype(model.dtype()).device(device);
  const torch::Tensor x = torch::randn({1, prompt, config.hidden_size}, options);
  const torch::Tensor inner = torch::randn({1, prompt, config.intermediate_size}, options);
  const double projections_s = upm::bench::time_median([&] { run_projections(model, x, inner); }, 3, 1, device);
  double unfused_s = 0;
  if (dtype == "bfloat16") {
    upm::set_fused_prefill_enabled(false);
    unfused_s = upm::bench::time_median([&] { (void)model.forward(in); }, 3, 1, device);
    upm::set_fused_prefill_enabled(true);
  }

  upm::KVCache cache(config, 1, 32 + decode, model.dtype(), model.device());
  torch::Tensor next = ids.narrow(1, 0, 1);
  double decode_s = upm::bench::time_median(
      [&] {
        cache.reset_all();
        upm::ForwardInput p;
        p.input_ids = ids.narrow(1, 0, 32);
        p.cache = &cache;
        p.logits_for = upm::LogitsFor::last;
        model.forward(p);
        for (int64_t t = 0; t < decode; ++t) {
          upm::ForwardInput step;
          step.input_ids = next;
          step.cache = &cache;
          step.logits_for = upm::LogitsFor::last;
          next = model.forward(step).logits.argmax(-1).to(torch::kCPU);
        }
      },
      3, 1, device);
  // The timed body includes a 32-token prefill; subtract its share measured alone.
  upm::ForwardInput p32;
  p32.input_ids = ids.narrow(1, 0, 32);
  p32.logits_for = upm::LogitsFor::last;
  double prefill32_s = upm::bench::time_median([&] { (void)model.forward(p32); }, 3, 1, device);
  double per_token_s = std::max(1e-9, (decode_s - prefill32_s) / double(decode));
  double tokens_per_s = 1.0 / per_token_s;
  double effective_gbps = upm::bench::decode_weight_bytes(model) * tokens_per_s / 1e9;

  // Batch decode: `decode_batch` rows a step after a 32-token prompt each,
  // the aggregate tokens/s (every row's logits each step).
  double batch_tokens_per_s = 0;
  if (decode_batch > 1) {
    upm::KVCache batch_cache(config, decode_batch, 32 + decode, model.dtype(), model.device());
    const torch::Tensor prompts = torch::randint(config.vocab_size, {decode_batch, 32}, torch::kLong).to(device);
    torch::Tensor rows_next = prompts.narrow(1, 0, 1);
    const double batch_s = upm::bench::time_median(
        [&] {
          batch_cache.reset_all();
          upm::ForwardInput p;
          p.input_ids = prompts;
          p.cache = &batch_cache;
          p.logits_for = upm::LogitsFor::last;
          model.forward(p);
          for (int64_t t = 0; t < decode; ++t) {
            upm::ForwardInput step;
            step.input_ids = rows_next;
            step.cache = &batch_cache;
            step.logits_for = upm::LogitsFor::last;
            rows_next = model.forward(step).logits.select(1, 0).argmax(-1).view({decode_batch, 1});
          }
        },
        3, 1, device);
    upm::ForwardInput pb;
    pb.input_ids = prompts;
    pb.logits_for = upm::LogitsFor::last;
    const double prefill_batch_s = upm::bench::time_median([&] { (void)model.forward(pb); }, 3, 1, device);
    batch_tokens_per_s = double(decode_batch * decode) / std::max(1e-9, batch_s - prefill_batch_s);
  }

  const char* peak_key = dtype == "float32" ? "peak_gemm_gflops_fp32" : "peak_gemm_gflops_bf16";
  const double peak = baseline[peak_key].get<double>();
  nlohmann::json r = {
      {"dtype", dtype},
      {"prefill_tokens", prompt},
      {"prefill_seconds", prefill_s},
      {"prefill_gflops", prefill_gflops},
      {"prefill_ratio_to_peak_gemm", prefill_gflops / peak},
      {"prefill_projections_seconds", projections_s},
      {"prefill_projections_ratio_to_peak_gemm", projection_flops(config, prompt) / projections_s / 1e9 / peak},
      {"prefill_projections_share", projections_s / prefill_s},
      {"decode_tokens", decode},
      {"decode_tokens_per_s", tokens_per_s},
      {"decode_effective_gbps", effective_gbps},
      {"decode_ratio_to_memory_bandwidth", effective_gbps / baseline["memory_read_gbps"].get<double>()}};
  if (decode_batch > 1) {
    r["decode_batch"] = decode_batch;
    r["decode_batch_tokens_per_s"] = batch_tokens_per_s;
  }
  if (unfused_s > 0) {
    r["prefill_unfused_seconds"] = unfused_s;
    r["prefill_unfused_ratio_to_peak_gemm"] = prefill_flops(config, prompt) / unfused_s / 1e9 / peak;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_name = "cpu";
  int64_t prompt = 256, decode = 32, decode_batch = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cpu-clock") {
      upm::bench::set_clock(upm::bench::Clock::process_cpu);
    } else if (i + 1 < argc && (a == "--device" || a == "--prompt" || a == "--decode" || a == "--decode-batch")) {
      const char* value = argv[++i];
      if (a == "--device") device_name = value;
      if (a == "--prompt") prompt = std::stoll(value);
      if (a == "--decode") decode = std::stoll(value);
      if (a == "--decode-batch") decode_batch = std::stoll(value);
    } else {
      std::fprintf(
          stderr,
          "usage: upm-bench-model [--device cpu|cuda] [--prompt 256] [--decode 32] [--decode-batch 1] [--cpu-clock]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  c10::Device device(device_name);
  upm::ModelConfig config = bench_config();
  nlohmann::json out = {{"bench", "model"}, {"model_parameters", upm::parameter_count(config)}};
  // The shape, for peers that build the same model (tools/gpu/hf_generate.py).
  out["model_config"] = {{"vocab_size", config.vocab_size},
                         {"hidden_size", config.hidden_size},
                         {"intermediate_size", config.intermediate_size},
                         {"num_hidden_layers", config.num_hidden_layers},
                         {"num_attention_heads", config.num_attention_heads},
                         {"num_key_value_heads", config.num_key_value_heads},
                         {"head_dim", config.head_dim},
                         {"rope_theta", config.rope_theta},
                         {"rms_norm_eps", config.rms_norm_eps},
                         {"tie_word_embeddings", config.tie_word_embeddings}};
  out["baseline"] = upm::bench::machine_baseline(device);
  out["results"] = nlohmann::json::array();
  for (const char* dtype : {"float32", "bfloat16"}) {
    out["results"].push_back(bench_dtype(config, dtype, device, out["baseline"], prompt, decode, decode_batch));
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
