// What serving costs on top of the model call, on a random ~25M-parameter
// Qwen3-architecture model (8 layers of 512, 32k vocabulary) with the tiny
// BPE tokenizer and the Qwen3 chat template:
//   http_overhead: a request through upm's OpenAIClient -> ChatServer over
//                  loopback / the same request computed by ChatEngine::complete
//   judge:         max_tokens 1 with logprobs + top_logprobs 20 (what the RL
//                  judge asks) / the same request without log-probs (the
//                  extra teacher-forced pass that reads the alternatives)
//   long answer:   32 greedy tokens with top_logprobs 5 / without
// usage: upm-bench-serve [--reps N] [--cpu-clock]
#include <cstring>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "baseline.h"
#include "upm/model/causal_lm.h"
#include "upm/model/model_config.h"
#include "upm/serve/chat_engine.h"
#include "upm/serve/chat_server.h"
#include "upm/openai/openai_client.h"
#include "upm/text/tokenizer.h"
#include "upm/core/source_dir.h"

namespace {

using upm::bench::time_median;

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
  c.rope_theta = 1000000.0;
  c.max_position_embeddings = 4096;
  c.tie_word_embeddings = true;
  c.initializer_range = 0.3;
  return c;
}

// A judge-like prompt of about `words` words.
upm::openai::ChatRequest request(int words, int64_t max_tokens, int64_t top_logprobs) {
  std::string profile;
  for (int i = 0; i < words; ++i) profile += (i % 7 ? "likes " : "dislikes ") + std::to_string(i) + " ";
  upm::openai::ChatRequest r;
  r.messages = {{"system", "You predict which item the user picks. Answer A or B."},
                {"user", "Profile: " + profile + "\nItem A: Heat (1995)\nItem B: Scream (1996)\nAnswer:"}};
  r.temperature = 0;
  r.max_tokens = max_tokens;
  r.logprobs = top_logprobs > 0;
  r.top_logprobs = top_logprobs;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--cpu-clock")) upm::bench::set_clock(upm::bench::Clock::process_cpu);
  }
  spdlog::set_level(spdlog::level::warn);  // no per-request log lines in the JSON output
  torch::Device device(torch::kCPU);
  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(device);
  upm::serve::ChatModel model{"bench", std::make_shared<upm::CausalLM>(bench_config(), upm::ModelRuntime{}),
                              upm::load_tokenizer(upm::source_dir() + "/tests/data/text/tiny_bpe/tokenizer.json"),
                              upm::ChatTemplate::named("qwen3")};
  upm::serve::ChatEngine engine(std::move(model));
  upm::serve::ChatServerConfig config;
  config.port = 0;
  upm::serve::ChatServer server(engine, config);
  server.bind();
  std::thread serving([&] { server.serve(); });
  upm::openai::OpenAIClientConfig client_config;
  client_config.base_url = server.base_url();
  client_config.model = "bench";
  upm::openai::OpenAIClient client(client_config);

  auto engine_time = [&](const upm::openai::ChatRequest& r) {
    return time_median([&] { engine.complete(r); }, reps, 1, device);
  };
  auto http_time = [&](const upm::openai::ChatRequest& r) {
    return time_median([&] { client.chat(r); }, reps, 1, device);
  };
  for (int words : {20, 200}) {
    const auto plain = request(words, 1, 0), judge = request(words, 1, 20);
    const auto long_plain = request(words, 32, 0), long_top = request(words, 32, 5);
    const double t_plain = engine_time(plain), t_judge = engine_time(judge);
    const double t_long = engine_time(long_plain), t_long_top = engine_time(long_top);
    const double t_http = http_time(long_plain);
    out["runs"].push_back({{"prompt_tokens", engine.prompt_ids(plain).size()},
                           {"engine_ms_1_token", t_plain * 1e3},
                           {"judge_top20_over_plain", t_judge / t_plain},
                           {"engine_ms_32_tokens", t_long * 1e3},
                           {"top5_32_tokens_over_plain", t_long_top / t_long},
                           {"http_ms_32_tokens", t_http * 1e3},
                           {"http_overhead", t_http / t_long}});
  }
  server.stop();
  serving.join();
  std::cout << out.dump(2) << std::endl;
}
