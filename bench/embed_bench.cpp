// Q-Anchor cost per user: one history prefill plus N short queries. The goal
// is that a query costs only its own tokens, so for a ~1000-token
// history N = 100 queries should cost well under 2x N = 1. Reported beside
// the cost without the shared prefix (one full forward per query) and the
// token-count ratio that "its own tokens" predicts: (H + s + N*(q - s)) /
// (H + q), s being the query template's tokens every query starts with.
//
// Three modes, measured in the same run: "shared_slot" (queries read the
// history's keys/values in place from its cache slot, and the last layer
// computes only each query's read token; the default),
// "shared_slot_full_last_layer" (the last layer computes every query token)
// and "copied_prefix" (also the history copied into each query's slot first).
//
// Model: random Qwen3-style, ~41M parameters (hidden 512, 8 layers, vocab
// 32000), fp32. UPM_BENCH_DEVICE=cuda runs it on a GPU.
#include <algorithm>
#include <ctime>
#include <functional>
#include <cstdlib>
#include <iostream>

#include <torch/torch.h>

#include "baseline.h"
#include "upm/model/causal_lm.h"
#include "upm/model/model_config.h"
#include "upm/embed/embedder.h"

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

// Median process CPU seconds of `reps` calls after one warm-up. On a shared
// machine CPU time is the steadier measure (wall time counts waiting for a core).
double cpu_median(const std::function<void()>& fn, int reps) {
  fn();
  std::vector<double> seconds;
  for (int i = 0; i < reps; ++i) {
    const std::clock_t start = std::clock();
    fn();
    seconds.push_back(double(std::clock() - start) / CLOCKS_PER_SEC);
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
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
  // "\nQuery: Will this user buy insurance?<USER_EMB>" in a Qwen-sized
  // vocabulary: 3 template tokens every query starts with, 7 of its own.
  const int64_t template_tokens = 3, own_tokens = 7, query_tokens = template_tokens + own_tokens;
  const auto history = random_ids(history_tokens, config.vocab_size);
  const auto start = random_ids(template_tokens, config.vocab_size);
  std::vector<std::vector<int64_t>> queries;
  for (int i = 0; i < 100; ++i) {
    auto q = start;
    for (int64_t id : random_ids(own_tokens, config.vocab_size)) q.push_back(id);
    queries.push_back(q);
  }

  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(device);
  out["model"] = {{"parameters", upm::parameter_count(config)},
                  {"hidden", config.hidden_size},
                  {"layers", config.num_hidden_layers},
                  {"dtype", "float32"}};
  out["history_tokens"] = history_tokens;
  out["query_tokens"] = query_tokens;
  out["query_tokens_shared_by_all"] = template_tokens;

  const bool cpu = device.is_cpu();
  auto measure = [&](const std::function<void()>& fn) {
    return cpu ? cpu_median(fn, 5) : upm::bench::time_median(fn, 5, 1, device);
  };
  out["measure"] = cpu ? "median process CPU seconds of 5 runs" : "median wall seconds of 5 runs";
  upm::EmbedderSettings settings;
  settings.query_batch = 32;
  const double scratch_one =
      measure([&] { upm::Embedder(model, nullptr, settings).embed_from_scratch(history, queries[0]); });
  // Three paths, same results: the default (history read in place from its
  // slot, the last layer computing only each query's read token), the same
  // with a full last layer, and the history copied into every query's slot.
  for (const std::string mode : {"shared_slot", "shared_slot_full_last_layer", "copied_prefix"}) {
    settings.copy_prefix = mode == "copied_prefix";
    settings.full_last_layer = mode != "shared_slot";
    upm::Embedder embedder(model, nullptr, settings);
    double shared_one = 0;
    for (int64_t n : {1, 10, 100}) {
      std::vector<std::vector<int64_t>> subset(queries.begin(), queries.begin() + n);
      const double s = measure([&] { embedder.embed(history, subset); });
      if (n == 1) shared_one = s;
      // Tokens computed: history + shared start once, each query's own tokens.
      const int64_t shared_start = n > 1 ? template_tokens : 0;
      const double token_ratio = double(history_tokens + shared_start + n * (query_tokens - shared_start)) /
                                 double(history_tokens + query_tokens);
      out[mode].push_back({{"n", n},
                           {"seconds", s},
                           {"ratio_vs_n1", s / shared_one},
                           {"token_ratio_vs_n1", token_ratio},
                           {"marginal_ms_per_query", n > 1 ? (s - shared_one) / double(n - 1) * 1e3 : 0.0},
                           {"from_scratch_seconds_est", scratch_one * double(n)},
                           {"speedup_vs_from_scratch", scratch_one * double(n) / s}});
    }
  }
  out["from_scratch_one_query_seconds"] = scratch_one;
  std::cout << out.dump(2) << std::endl;
}
