// Q-Anchor cost per user: one history prefill plus N short queries. The goal
// (issue 10) is that a query costs only its own tokens, so for a ~1000-token
// history N = 100 queries should cost well under 2x N = 1. Reported beside
// the cost without the shared prefix (one full forward per query) and the
// token-count ratio (H + N*q) / (H + q) that "its own tokens" predicts.
//
// Model: random Qwen3-style, ~41M parameters (hidden 512, 8 layers, vocab
// 32000), fp32. UPM_BENCH_DEVICE=cuda runs it on a GPU.
#include <cstdlib>
#include <iostream>

#include <torch/torch.h>

#include "baseline.h"
#include "upm/model/causal_lm.h"
#include "upm/model/model_config.h"
#include "upm/pipeline/embedder.h"

namespace {

upm::ModelConfig bench_config() {
  upm::ModelConfig c;
  c.model_type = "qwen3";
  c.vocab_size = 32000;
  c.hidden_size = 512;
  c.intermediate_size = 1536;
  c.num_hidden_layers = 8;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 4;
  c.head_dim = 64;
  c.qk_norm = true;
  c.tie_word_embeddings = true;
  c.max_position_embeddings = 4096;
  c.rope_theta = 1e6;
  return c;
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab) {
  auto t = torch::randint(0, vocab, {n}, torch::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

}  // namespace

int main() {
  const char* device_env = std::getenv("UPM_BENCH_DEVICE");
  upm::ModelRuntime runtime;
  if (device_env) runtime.device = device_env;
  const upm::ModelConfig config = bench_config();
  auto model = std::make_shared<upm::CausalLM>(config, runtime, upm::InitMode::random, 1);
  const c10::Device device = model->device();
  torch::manual_seed(0);

  const int64_t history_tokens = 1000;
  const int64_t query_tokens = 8;  // "Will this user buy insurance?" + <USER_EMB>, roughly
  const auto history = random_ids(history_tokens, config.vocab_size);
  std::vector<std::vector<int64_t>> queries;
  for (int i = 0; i < 100; ++i) queries.push_back(random_ids(query_tokens, config.vocab_size));

  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(device);
  out["model"] = {{"parameters", upm::parameter_count(config)}, {"hidden", config.hidden_size},
                  {"layers", config.num_hidden_layers}, {"dtype", "float32"}};
  out["history_tokens"] = history_tokens;
  out["query_tokens"] = query_tokens;

  upm::EmbedderSettings settings;
  settings.query_batch = 32;
  upm::Embedder embedder(model, nullptr, settings);
  const double scratch_one =
      upm::bench::time_median([&] { embedder.embed_from_scratch(history, queries[0]); }, 3, 1, device);
  double shared_one = 0;
  for (int64_t n : {1, 10, 100}) {
    std::vector<std::vector<int64_t>> subset(queries.begin(), queries.begin() + n);
    const double s = upm::bench::time_median([&] { embedder.embed(history, subset); }, 3, 1, device);
    if (n == 1) shared_one = s;
    const double token_ratio = double(history_tokens + n * query_tokens) / double(history_tokens + query_tokens);
    out["queries"].push_back({{"n", n},
                              {"seconds", s},
                              {"ratio_vs_n1", s / shared_one},
                              {"token_ratio_vs_n1", token_ratio},
                              {"marginal_ms_per_query", n > 1 ? (s - shared_one) / double(n - 1) * 1e3 : 0.0},
                              {"from_scratch_seconds_est", scratch_one * double(n)},
                              {"speedup_vs_from_scratch", scratch_one * double(n) / s}});
  }
  out["from_scratch_one_query_seconds"] = scratch_one;
  std::cout << out.dump(2) << std::endl;
}
