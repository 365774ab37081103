// SFT training throughput on a ~100M-parameter random Llama-style model:
// tokens/s and achieved GFLOP/s (6 x params x tokens: forward + backward)
// beside the same run's peak GEMM, and beside the same step (forward, loss,
// backward, clipping, AdamW) in PyTorch eager (bench/train_peer.py),
// run on the same machine with the same thread count.
//
//   upm-bench-train [--layers 12] [--hidden 768] [--batch 4] [--seq 128] [--reps 3] [--no-peer]
#include <cstdio>
#include <iostream>
#include <string>

#include <torch/torch.h>

#include "baseline.h"
#include "bench_args.h"
#include "upm/model/causal_lm.h"
#include "upm/train/optimizer.h"
#include "upm/train/sft_step.h"
#include "upm/core/source_dir.h"

namespace {

using upm::bench::arg;
using upm::bench::flag;

nlohmann::json run_peer(const nlohmann::json& shape) {
  const std::string command =
      upm::bench::project_python() + " " + upm::source_dir() + "/bench/train_peer.py '" + shape.dump() + "'";
  return upm::bench::run_json_command(command);
}

}  // namespace

int main(int argc, char** argv) {
  torch::Device device(torch::kCPU);
  upm::ModelConfig config;
  config.model_type = "llama";
  config.vocab_size = 32000;
  config.hidden_size = arg(argc, argv, "--hidden", 768);
  config.num_hidden_layers = arg(argc, argv, "--layers", 12);
  config.num_attention_heads = config.hidden_size / 64;
  config.num_key_value_heads = config.num_attention_heads;
  config.head_dim = 64;
  config.intermediate_size = config.hidden_size * 8 / 3 / 64 * 64;
  config.tie_word_embeddings = true;
  config.max_position_embeddings = 2048;
  const int64_t batch = arg(argc, argv, "--batch", 4), seq = arg(argc, argv, "--seq", 128);
  const int reps = int(arg(argc, argv, "--reps", 3));

  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(device);
  upm::CausalLM model(config, upm::ModelRuntime{}, upm::InitMode::random, 1);
  const int64_t params = upm::parameter_count(config);
  upm::AdamWConfig adam;
  adam.weight_decay = 0.1;
  upm::AdamW optimizer(model.hf_tensors(), adam);

  // Every token is a target (pre-training-like), one micro-batch per step.
  std::vector<upm::SftExample> examples(batch);
  auto ids = torch::randint(3, config.vocab_size, {batch, seq}, torch::kLong);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < seq; ++t) {
      examples[b].ids.push_back(ids[b][t].item<int64_t>());
      examples[b].target.push_back(t > 0);
    }
  }
  std::vector<const upm::SftExample*> rows;
  for (auto& ex : examples) rows.push_back(&ex);
  std::vector<upm::SftBatch> micro{upm::collate_sft(rows, device)};
  const int64_t targets = micro[0].target_tokens;
  const double step_s = upm::bench::time_median(
      [&] { upm::sft_train_step(model, optimizer, micro, targets, 1e-4, 1.0, nullptr); }, reps, 1, device);

  const double tokens = double(batch * seq);
  const double gflops = 6.0 * double(params) * tokens / step_s / 1e9;
  const double peak = out["baseline"]["peak_gemm_gflops_fp32"].get<double>();
  out["model"] = {{"parameters", params},
                  {"layers", config.num_hidden_layers},
                  {"hidden", config.hidden_size},
                  {"intermediate", config.intermediate_size},
                  {"vocab", config.vocab_size}};
  out["shape"] = {{"batch", batch}, {"seq", seq}, {"dtype", "float32"}};
  out["upm"] = {{"step_s", step_s},
                {"tokens_per_s", tokens / step_s},
                {"achieved_gflops", gflops},
                {"fraction_of_peak_gemm", gflops / peak}};
  if (!flag(argc, argv, "--no-peer")) {
    nlohmann::json shape = {{"layers", config.num_hidden_layers},
                            {"hidden", config.hidden_size},
                            {"intermediate", config.intermediate_size},
                            {"heads", config.num_attention_heads},
                            {"vocab", config.vocab_size},
                            {"batch", batch},
                            {"seq", seq},
                            {"reps", reps},
                            {"threads", torch::get_num_threads()}};
    out["peer"] = run_peer(shape);
    if (out["peer"].contains("step_s")) out["upm_speedup_vs_peer"] = out["peer"]["step_s"].get<double>() / step_s;
  }
  std::cout << out.dump(2) << std::endl;
}
