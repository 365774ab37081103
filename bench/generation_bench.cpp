// Generation engine speed on a random ~100M-parameter Llama-style model, in
// fp32 and bf16, beside same-run baselines and a PyTorch eager peer:
//   prefill: tokens/s and GFLOP/s / peak GEMM (measured again before the loop)
//   batch-1 decode: tokens/s / memory-bandwidth bound (weight bytes per token;
//                   the read bandwidth measured again beside the decode loops)
//   batch-16 decode: aggregate tokens/s
//   group sampling: G samples of one prompt (one prefill) vs G separate runs
//   bf16 batch-1 decode also without the fused decode path, without the
//   bf16 GEMV kernel, and (AVX512_BF16 CPUs) with the GEMV's portable
//   widening loop instead of vdpbf16ps (same run, alternated)
//   peer: bench/generation_peer.py, same config and loops (prefill, greedy
//         decode at batch 1 and 16), run in the project's Python before and
//         after UPM's loops (figures: the means of the two runs)
// usage: upm-bench-generation [--dtypes float32,bfloat16] [--reps N] [--no-peer]
//                             [--peer bench/generation_peer.py] [--cpu-clock]
//                             [--only prefill|decode_b1] (that loop alone, no peer: for perf)
// --cpu-clock times everything (baselines, UPM, peer) in process CPU seconds:
// on a machine shared with other jobs wall time mostly measures waiting.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "baseline.h"
#include "upm/infer/sampler.h"
#include "upm/infer/generator.h"
#include "upm/model/bf16_gemv.h"
#include "upm/model/causal_lm.h"
#include "upm/model/cpu_threads.h"
#include "upm/model/decode_fusion.h"
#include "upm/model/model_config.h"

namespace {

using upm::bench::time_median;

struct Settings {
  std::vector<std::string> dtypes{"float32", "bfloat16"};
  int reps = 3;
  bool peer = true;
  std::string peer_script = "bench/generation_peer.py";
  bool cpu_clock = false;
  std::string only;              // "prefill" or "decode_b1": that loop alone, no peer (for profiling it)
  int64_t prefill_tokens = 128;  // prefill benchmark prompt
  int64_t decode_prompt = 16;    // decode benchmarks' prompt
  int64_t decode_tokens = 16;    // new tokens per decode run
  int64_t batch = 16;
  int64_t group = 8;
  int64_t group_prompt = 128;
  int64_t group_tokens = 8;
};

// ~100M parameters: 12 layers of 768 with GQA (12 query / 4 kv heads), a
// 32k vocabulary tied to the embedding.
upm::ModelConfig bench_config() {
  upm::ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 32000;
  c.hidden_size = 768;
  c.intermediate_size = 2048;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.num_key_value_heads = 4;
  c.head_dim = 64;
  c.rope_theta = 10000.0;
  c.max_position_embeddings = 2048;
  c.tie_word_embeddings = true;
  return c;
}

nlohmann::json config_json(const upm::ModelConfig& c) {
  return {{"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"num_hidden_layers", c.num_hidden_layers},
          {"num_attention_heads", c.num_attention_heads},
          {"num_key_value_heads", c.num_key_value_heads},
          {"rope_theta", c.rope_theta},
          {"rms_norm_eps", c.rms_norm_eps}};
}

// Multiply-adds actually computed by a prefill of T tokens (x2 for FLOPs):
// the projections and MLP per token, the full T x T score and value products
// per layer, and the LM head for the last position only.
double prefill_flops(const upm::ModelConfig& c, int64_t T) {
  const double per_token = double(c.num_hidden_layers) * (2.0 * c.hidden_size * (c.q_size() + c.kv_size()) +
                                                          3.0 * c.hidden_size * c.intermediate_size);
  const double attention = double(c.num_hidden_layers) * 2.0 * c.q_size() * double(T) * double(T);
  return 2.0 * (per_token * double(T) + attention + double(c.hidden_size) * c.vocab_size);
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab) {
  auto t = torch::randint(vocab, {n}, torch::TensorOptions().dtype(torch::kLong));
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

upm::GenerationConfig greedy(int64_t new_tokens) {
  upm::GenerationConfig g;
  g.sampling.temperature = 0.0;
  g.max_new_tokens = new_tokens;
  g.stop_at_eos = false;
  return g;
}

// Prefill: one sequence, logits of the last position.
void bench_prefill(const Settings& s, upm::CausalLM& model, nlohmann::json& r) {
  const upm::ModelConfig& config = model.config();
  auto prompt = random_ids(s.prefill_tokens, config.vocab_size);
  upm::ForwardInput in;
  in.input_ids = torch::tensor(prompt).view({1, -1});
  in.logits_for = upm::LogitsFor::last;
  // Peak GEMM measured again right before the loop (as the decode bound's
  // bandwidth is): the opening baseline can be minutes older.
  const double peak = upm::bench::peak_gemm_gflops(model.dtype(), model.device());
  double t = time_median([&] { model.forward(in); }, s.reps, 1, model.device());
  r["prefill_peak_gemm_gflops"] = peak;
  const double gflops = prefill_flops(config, s.prefill_tokens) / t / 1e9;
  r["prefill_tokens_per_s"] = double(s.prefill_tokens) / t;
  r["prefill_gflops"] = gflops;
  r["prefill_fraction_of_peak_gemm"] = gflops / peak;
}

nlohmann::json bench_dtype(const Settings& s, const std::string& dtype) {
  const upm::ModelConfig config = bench_config();
  upm::ModelRuntime runtime;
  runtime.dtype = dtype;
  upm::CausalLM model(config, runtime, upm::InitMode::random, 0);
  const c10::Device device = model.device();
  upm::Generator gen(model);
  c10::InferenceMode guard;
  torch::manual_seed(0);
  nlohmann::json r;

  if (s.only.empty() || s.only == "prefill") bench_prefill(s, model, r);
  if (s.only == "prefill") return r;

  // Decode: a whole generation minus its prefill, per decode step.
  auto decode_rate = [&](int64_t batch) {
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t b = 0; b < batch; ++b) prompts.push_back(random_ids(s.decode_prompt, config.vocab_size));
    upm::ForwardInput pre;
    pre.input_ids = torch::tensor(prompts[0]).view({1, -1}).repeat({batch, 1});
    pre.logits_for = upm::LogitsFor::last;
    for (int64_t b = 0; b < batch; ++b) pre.input_ids[b] = torch::tensor(prompts[b]);
    const double t_pre = time_median([&] { model.forward(pre); }, s.reps, 1, device);
    const double t_all = time_median([&] { gen.generate(prompts, greedy(s.decode_tokens)); }, s.reps, 1, device);
    return double(batch * (s.decode_tokens - 1)) / (t_all - t_pre);
  };
  const double weight_bytes = double(upm::parameter_count(config)) * (dtype == "float32" ? 4 : 2);
  // On the CPU, batch-1 decode also without the fused decode path
  // (decode_fusion.h: the fused bf16 layer, the fp32 GEMV) and, in bf16,
  // without the bf16 GEMV kernel as well (torch::linear and the plain torch
  // ops), and, where the CPU has AVX512_BF16, with everything on but the
  // GEMV's portable widening loop instead of vdpbf16ps (bf16_gemv.h),
  // alternating the settings `reps` times (medians), so that all see the
  // same machine load: the before/after of each in one run.
  const torch::Tensor row = torch::zeros({1, config.hidden_size}, model.dtype());
  const torch::Tensor& embedding = model.model->embed_tokens->weight;
  const bool bf16_gemv = upm::bf16_gemv_applies(row, embedding, {});
  const bool alternate = bf16_gemv || upm::fp32_gemv_applies(row, embedding, {});
  const bool bf16_dot = bf16_gemv && upm::bf16_dot_active();
  // The read bandwidth is measured again in every round, beside the decode
  // loops: on a machine whose load drifts, the run's opening baseline can
  // be minutes older than the loops it bounds.
  std::vector<double> with, unfused, without, portable, bandwidth;
  for (int i = 0; i < (alternate ? s.reps : 1); ++i) {
    bandwidth.push_back(upm::bench::memory_read_gbps(device));
    with.push_back(decode_rate(1));
    if (!alternate) break;
    if (bf16_dot) {
      upm::set_bf16_dot_enabled(false);
      portable.push_back(decode_rate(1));
      upm::set_bf16_dot_enabled(true);
    }
    upm::set_fused_decode_enabled(false);
    unfused.push_back(decode_rate(1));
    if (bf16_gemv) {
      upm::set_bf16_gemv_enabled(false);
      without.push_back(decode_rate(1));
      upm::set_bf16_gemv_enabled(true);
    }
    upm::set_fused_decode_enabled(true);
  }
  const double b1 = median(with);
  const double bound = median(bandwidth) * 1e9 / weight_bytes;
  r["decode_b1_memory_read_gbps"] = median(bandwidth);
  r["decode_b1_tokens_per_s"] = b1;
  r["decode_b1_bandwidth_bound_tokens_per_s"] = bound;
  r["decode_b1_fraction_of_bound"] = b1 / bound;
  if (alternate) {
    r["decode_b1_without_fused_decode_tokens_per_s"] = median(unfused);
    r["decode_b1_without_fused_decode_fraction_of_bound"] = median(unfused) / bound;
  }
  if (bf16_gemv) {
    r["decode_b1_without_bf16_gemv_tokens_per_s"] = median(without);
    r["decode_b1_without_bf16_gemv_fraction_of_bound"] = median(without) / bound;
  }
  if (bf16_dot) {
    r["decode_b1_without_bf16_dot_tokens_per_s"] = median(portable);
    r["decode_b1_without_bf16_dot_fraction_of_bound"] = median(portable) / bound;
  }
  if (!s.only.empty()) return r;
  r["decode_b" + std::to_string(s.batch) + "_tokens_per_s"] = decode_rate(s.batch);

  // Group sampling: G samples of one prompt together vs one after another.
  auto group_prompt = random_ids(s.group_prompt, config.vocab_size);
  upm::GenerationConfig sampled = greedy(s.group_tokens);
  sampled.sampling.temperature = 1.0;
  const double t_group = time_median([&] { gen.generate_groups({group_prompt}, s.group, sampled); }, s.reps, 1, device);
  const double t_apart = time_median(
      [&] {
        for (int64_t g = 0; g < s.group; ++g) gen.generate({group_prompt}, sampled, {upm::sequence_seed(0, g)});
      },
      s.reps, 1, device);
  r["group"] = {{"G", s.group},
                {"prompt_tokens", s.group_prompt},
                {"new_tokens", s.group_tokens},
                {"group_seconds", t_group},
                {"separate_seconds", t_apart},
                {"speedup", t_apart / t_group}};
  return r;
}

nlohmann::json run_peer(const Settings& s) {
  nlohmann::json cfg = {{"model", config_json(bench_config())},
                        {"dtypes", s.dtypes},
                        {"reps", s.reps},
                        {"threads", torch::get_num_threads()},
                        {"prefill_tokens", s.prefill_tokens},
                        {"decode_prompt", s.decode_prompt},
                        {"decode_tokens", s.decode_tokens},
                        {"batch", s.batch},
                        {"clock", s.cpu_clock ? "process_cpu" : "wall"}};
  std::string arg = cfg.dump();
  std::string command = upm::bench::project_python() + " " + s.peer_script + " '" + arg + "'";
  return upm::bench::run_json_command(command);
}

// Per dtype, the mean of each figure over the runs that have it.
nlohmann::json mean_of_peer_runs(const nlohmann::json& a, const nlohmann::json& b,
                                 const std::vector<std::string>& dtypes) {
  if (!a.contains("error") && b.contains("error")) return a;
  if (a.contains("error")) return b;
  nlohmann::json out = a;
  for (const auto& dtype : dtypes) {
    if (!a.contains(dtype) || !b.contains(dtype)) continue;
    for (const auto& [key, value] : a[dtype].items()) {
      if (b[dtype].contains(key)) out[dtype][key] = (value.get<double>() + b[dtype][key].get<double>()) / 2;
    }
  }
  return out;
}

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dtypes") {
      s.dtypes.clear();
      std::stringstream list(next());
      for (std::string d; std::getline(list, d, ',');) s.dtypes.push_back(d);
    } else if (a == "--reps") {
      s.reps = std::stoi(next());
    } else if (a == "--cpu-clock") {
      s.cpu_clock = true;
    } else if (a == "--only") {
      s.only = next();
      s.peer = false;
      if (s.only != "prefill" && s.only != "decode_b1") {
        std::cerr << "--only takes prefill or decode_b1\n";
        std::exit(2);
      }
    } else if (a == "--no-peer") {
      s.peer = false;
    } else if (a == "--peer") {
      s.peer_script = next();
    } else {
      std::cerr << "unknown argument " << a << "\n";
      std::exit(2);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse(argc, argv);
  // One thread count for everything timed (torch's, which is also the
  // peer's): OpenBLAS's own pool would otherwise run fp32 GEMMs on every CPU.
  upm::set_cpu_threads(torch::get_num_threads());
  if (s.cpu_clock) upm::bench::set_clock(upm::bench::Clock::process_cpu);
  const c10::Device device(torch::kCPU);
  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(device);
  out["model"] = config_json(bench_config());
  out["model"]["parameters"] = upm::parameter_count(bench_config());
  // The peer runs before and after UPM's loops and its figures are the
  // means of the two, so that a machine load drifting during the run does
  // not favour whichever side ran when the machine was quieter.
  const nlohmann::json peer_before = s.peer ? run_peer(s) : nlohmann::json();
  for (const auto& dtype : s.dtypes) out["upm"][dtype] = bench_dtype(s, dtype);
  if (s.peer) {
    out["peer_runs"] = {peer_before, run_peer(s)};
    out["peer"] = mean_of_peer_runs(out["peer_runs"][0], out["peer_runs"][1], s.dtypes);
    for (const auto& dtype : s.dtypes) {
      if (!out["peer"].contains(dtype)) continue;
      nlohmann::json ratio;
      for (const auto& [key, value] : out["peer"][dtype].items()) {
        if (out["upm"][dtype].contains(key)) ratio[key] = out["upm"][dtype][key].get<double>() / value.get<double>();
      }
      out["upm_over_peer"][dtype] = ratio;
    }
  }
  std::cout << out.dump(2) << std::endl;
}
