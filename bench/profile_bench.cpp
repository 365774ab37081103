// Batch profiling throughput, and the cost of a streaming update beside full
// re-profiling as the history grows (10, 100, 1000 prior events): the update
// reads the previous profile + the new events only, so its cost should stay
// flat while re-profiling grows with the history (up to the prompt budget).
// Also the prefill's cost per token at 256 / 2048 / 8192 tokens and the
// decode rates at one and two intra-op threads (the default thread count is
// chosen from these).
//
// The model is a random-init Qwen3-architecture model (hidden 256, 4 layers)
// with the committed tiny byte-level BPE tokenizer: texts are gibberish, the
// token counts and the compute are real. `--model DIR [--dtype bfloat16]`
// runs the same on a real model folder instead (e.g. SmolLM2-135M-Instruct,
// .cache/models/smollm2-135m-instruct). Prints one JSON object.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include <torch/torch.h>

#include "baseline.h"
#include "bench_args.h"
#include "upm/core/config.h"
#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"
#include "upm/infer/generator.h"
#include "upm/infer/language_model.h"
#include "upm/model/kv_cache.h"
#include "upm/pipeline/profile/profile_state.h"
#include "upm/pipeline/profile/profiler.h"
#include "upm/pipeline/profile/updater.h"
#include "upm/core/source_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string make_model(const fs::path& dir) {
  json cfg = upm::read_json_file(upm::source_dir() + "/tests/data/model/qwen3/config.json");
  cfg["vocab_size"] = 896;
  cfg["hidden_size"] = 256;
  cfg["intermediate_size"] = 768;
  cfg["num_hidden_layers"] = 4;
  cfg["num_attention_heads"] = 8;
  cfg["num_key_value_heads"] = 4;
  cfg["head_dim"] = 32;
  cfg["max_position_embeddings"] = 8192;
  upm::CausalLM model(upm::model_config_from_json(cfg, "bench model"), upm::ModelRuntime{}, upm::InitMode::random, 1);
  const std::string folder = (dir / "bench-qwen3").string();
  upm::save_pretrained(model, folder);
  fs::copy_file(upm::source_dir() + "/tests/data/text/tiny_bpe/tokenizer.json", folder + "/tokenizer.json");
  return folder;
}

json event(const std::string& id, int i) {
  if (i % 2)
    return {{"id", id},
            {"source", "movies"},
            {"kind", "rating"},
            {"item", "Movie number " + std::to_string(i)},
            {"value", 1 + i % 5}};
  return {{"id", id}, {"source", "forum"}, {"kind", "text"}, {"text", "A note about topic " + std::to_string(i)}};
}

// Users u0..u<n-1>, each with events <prefix><first>..<prefix><first+count-1>.
void write_logs(const std::string& path, int users, int first, int count) {
  std::ofstream out(path);
  for (int u = 0; u < users; ++u) {
    json events = json::array();
    for (int i = first; i < first + count; ++i) events.push_back(event("e" + std::to_string(i), i));
    out << json{{"user_id", "u" + std::to_string(u)}, {"events", events}}.dump() << "\n";
  }
}

// Profiles as if written after `history` events (the ids are what matters).
void write_profiles(const std::string& path, int users, int history) {
  std::ofstream out(path);
  for (int u = 0; u < users; ++u) {
    upm::data::ProfileRecord record;
    record.user_id = "u" + std::to_string(u);
    record.profile = "Enjoys crime and drama films, dislikes horror; writes short notes about topics.";
    record.version = 1;
    std::vector<std::string> ids;
    for (int i = 1; i <= history; ++i) ids.push_back("e" + std::to_string(i));
    upm::set_seen_event_ids(record, ids);
    out << upm::data::to_json(record).dump() << "\n";
  }
}

template <class F>
double seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Token ids drawn from the vocabulary, seeded.
std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor t = torch::randint(3, vocab, {n}, torch::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

// Seconds per prompt token of one prefill of `tokens` tokens into a cache.
double prefill_seconds_per_token(upm::CausalLM& model, int64_t tokens, int reps) {
  const std::vector<int64_t> ids = random_ids(tokens, model.config().vocab_size, 7);
  const double s = upm::bench::time_median(
      [&] {
        upm::KVCache cache(model.config(), 1, tokens, model.dtype(), model.device());
        upm::ForwardInput in;
        in.input_ids = torch::tensor(ids, torch::kLong).view({1, tokens});
        in.cache = &cache;
        in.logits_for = upm::LogitsFor::last;
        model.forward(in);
      },
      reps, 1, model.device());
  return s / double(tokens);
}

// Decode tokens per second of `rows` sequences continuing 64-token prompts
// by 32 greedy tokens (prefill excluded).
double decode_tokens_per_s(upm::CausalLM& model, int64_t rows) {
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t r = 0; r < rows; ++r) prompts.push_back(random_ids(64, model.config().vocab_size, 100 + uint64_t(r)));
  upm::GenerationConfig config;
  config.sampling.temperature = 0.0;
  config.max_new_tokens = 32;
  config.stop_at_eos = false;
  config.max_batch_sequences = rows;
  upm::Generator generator(model);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {  // the best of three: the first warms the allocator
    generator.generate(prompts, config);
    const upm::GenerationStats& stats = generator.last_stats();
    best = std::max(best, double(stats.generated_tokens - rows) / stats.decode_seconds);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  c10::InferenceMode guard;
  const fs::path dir = fs::temp_directory_path() / ("upm-profile-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  json out;
  out["baseline"] = upm::bench::machine_baseline(torch::Device(torch::kCPU));
  upm::ModelRuntime runtime;
  runtime.dtype = upm::bench::arg(argc, argv, "--dtype", std::string("float32"));
  std::string folder = upm::bench::arg(argc, argv, "--model", std::string());
  out["model"] = folder.empty() ? "random qwen3, hidden 256, 4 layers" : folder;
  out["dtype"] = runtime.dtype;
  if (folder.empty()) folder = make_model(dir);
  upm::LanguageModel lm = upm::load_language_model(folder, runtime);
  upm::CausalLM& model = *lm.model;
  const int default_threads = at::get_num_threads();

  // Prefill cost per token as the prompt grows.
  json prefill = json::array();
  for (int64_t tokens : {256, 2048, 8192}) {
    if (tokens > model.config().max_position_embeddings) continue;
    const double per_token = prefill_seconds_per_token(model, tokens, tokens >= 8192 ? 2 : 3);
    prefill.push_back({{"tokens", tokens}, {"seconds_per_token", per_token}});
  }
  for (auto& row : prefill)
    row["over_256"] = row["seconds_per_token"].get<double>() / prefill[0]["seconds_per_token"].get<double>();
  out["prefill"] = prefill;

  // One and two intra-op threads for the prefill and decode shapes.
  json threads = json::array();
  for (int n : {1, 2}) {
    at::set_num_threads(n);
    threads.push_back({{"threads", n},
                       {"prefill_256_tokens_per_s", 1.0 / prefill_seconds_per_token(model, 256, 3)},
                       {"decode_batch1_tokens_per_s", decode_tokens_per_s(model, 1)},
                       {"decode_batch8_tokens_per_s", decode_tokens_per_s(model, 8)}});
  }
  at::set_num_threads(default_threads);
  out["threads"] = threads;
  const int users = 8, new_events = 5;

  upm::ProfileJobConfig config;
  config.generation.max_new_tokens = 32;
  config.prompts.max_prompt_tokens = 6144;  // a 1000-event history is cut to this (oldest dropped)
  auto fresh = [&](const std::string& name) {
    const std::string path = (dir / name).string();
    fs::remove(path);
    fs::remove(path + ".errors.jsonl");
    return path;
  };

  // Throughput: 8 users x 20 events, batch 1 vs batch 8.
  write_logs((dir / "logs20.jsonl").string(), users, 1, 20);
  for (int64_t batch : {1, 8}) {
    config.generation.max_batch_sequences = batch;
    const std::string output = fresh("throughput.jsonl");
    double s = seconds([&] { upm::run_profile_job(lm, config, (dir / "logs20.jsonl").string(), output); });
    out["batch_profiling"].push_back({{"users", users},
                                      {"events_per_user", 20},
                                      {"batch_size", batch},
                                      {"max_new_tokens", 32},
                                      {"seconds", s},
                                      {"profiles_per_s", users / s}});
  }

  config.generation.max_batch_sequences = 8;
  json rows = json::array();
  double update_10 = 0;
  for (int history : {10, 100, 1000}) {
    const std::string profiles = (dir / ("p" + std::to_string(history) + ".jsonl")).string();
    const std::string batch = (dir / ("new" + std::to_string(history) + ".jsonl")).string();
    const std::string full = (dir / ("full" + std::to_string(history) + ".jsonl")).string();
    write_profiles(profiles, users, history);
    write_logs(batch, users, history + 1, new_events);
    write_logs(full, users, 1, history + new_events);
    const std::string update_out = fresh("update.jsonl"), profile_out = fresh("reprofile.jsonl");
    double update_s = seconds([&] { upm::run_update_job(lm, config, profiles, batch, update_out); });
    double profile_s = seconds([&] { upm::run_profile_job(lm, config, full, profile_out); });
    if (history == 10) update_10 = update_s;
    rows.push_back({{"prior_events", history},
                    {"new_events", new_events},
                    {"users", users},
                    {"update_s_per_user", update_s / users},
                    {"reprofile_s_per_user", profile_s / users},
                    {"reprofile_over_update", profile_s / update_s},
                    {"update_vs_10_events", update_s / update_10}});
  }
  out["update_vs_reprofile"] = rows;
  out["profiles_per_s_batch8_over_batch1"] = out["batch_profiling"][1]["profiles_per_s"].get<double>() /
                                             out["batch_profiling"][0]["profiles_per_s"].get<double>();
  fs::remove_all(dir);
  std::cout << out.dump(2) << std::endl;
}
