// GRPO step anatomy on a small random Qwen3-style policy that is also its own
// judge (the committed tiny BPE tokenizer, bench-local topic users): rollout
// tokens/s, and the share of step time spent in rollout (generation), reward
// scoring (the judge) and optimisation (log-prob recompute + backward + AdamW),
// beside the machine baseline of the same run (bench/baseline.h). Then the
// learner's log-prob pass alone (forward + backward of completion_logprobs
// over users x group samples of --prompt-tokens + --new-tokens): packed (each
// prompt once per group) against one row per sample.
//
//   upm-bench-rl [--hidden 256] [--layers 4] [--users 8] [--group 4] [--new-tokens 32] [--steps 4]
//                [--prompt-tokens 512]
// Run from anywhere; writes its scratch run under the system temp dir.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>
#include <string>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "baseline.h"
#include "bench_args.h"
#include "upm/core/atomic_file.h"
#include "upm/data/benchmark.h"
#include "upm/data/user_log.h"
#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"
#include "upm/train/completion_logprobs.h"
#include "upm/train/grpo_trainer.h"
#include "upm/core/source_dir.h"

namespace {

using upm::bench::arg;

// Users with a few text events and two held-out tasks each.
void write_users(const std::string& dir, int64_t users) {
  const std::vector<std::string> topics{"art", "food", "jazz", "news"};
  std::vector<upm::data::UserLog> logs;
  std::vector<upm::data::BenchmarkTask> tasks;
  for (int64_t u = 0; u < users; ++u) {
    upm::data::UserLog log;
    log.user_id = "u" + std::to_string(u);
    for (int e = 0; e < 6; ++e) {
      upm::data::Event event;
      event.id = "e" + std::to_string(e);
      event.kind = upm::data::EventKind::text;
      event.text = "I really enjoy " + topics[size_t(u + e) % topics.size()] + " on day " + std::to_string(e) + ".";
      log.events.push_back(event);
    }
    logs.push_back(log);
    for (int t = 0; t < 2; ++t) {
      upm::data::BenchmarkTask task;
      task.user_id = log.user_id;
      task.task_id = log.user_id + "-t" + std::to_string(t);
      task.context = "Pick one.";
      task.options = {topics[size_t(u) % 4], topics[size_t(u + 1 + t) % 4]};
      task.label = t % 2;
      tasks.push_back(task);
    }
  }
  upm::data::write_user_logs(dir + "/users.jsonl", logs);
  upm::data::write_benchmark(dir + "/tasks.jsonl", tasks);
}

std::string make_policy(const std::string& dir, int64_t hidden, int64_t layers) {
  nlohmann::json cfg = upm::read_json_file(upm::source_dir() + "/configs/models/tiny-sft/config.json");
  cfg["hidden_size"] = hidden;
  cfg["intermediate_size"] = hidden * 2;
  cfg["num_hidden_layers"] = layers;
  cfg["head_dim"] = hidden / 4;
  cfg["max_position_embeddings"] = 1024;
  upm::CausalLM model(upm::model_config_from_json(cfg, "bench"), upm::ModelRuntime{}, upm::InitMode::random, 1);
  const std::string folder = dir + "/policy";
  upm::save_pretrained(model, folder);
  std::filesystem::copy_file(upm::source_dir() + "/tests/data/text/tiny_bpe/tokenizer.json", folder + "/tokenizer.json",
                             std::filesystem::copy_options::overwrite_existing);
  return folder;
}

// Median seconds of forward + backward of completion_logprobs over
// users x group random samples, packed by prompt or one row per sample.
double logprob_pass_seconds(upm::CausalLM& model, int64_t users, int64_t group, int64_t prompt_tokens,
                            int64_t new_tokens, bool share_prompts) {
  torch::manual_seed(0);
  const int64_t vocab = model.config().vocab_size;
  std::vector<std::vector<int64_t>> prompts, completions;
  auto random_ids = [&](int64_t n) {
    torch::Tensor t = torch::randint(3, vocab, {n}, torch::kLong);
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  };
  for (int64_t u = 0; u < users; ++u) prompts.push_back(random_ids(prompt_tokens));
  for (int64_t i = 0; i < users * group; ++i) completions.push_back(random_ids(new_tokens));
  std::vector<upm::CompletionRef> rows;
  for (int64_t i = 0; i < users * group; ++i) rows.push_back({&prompts[size_t(i / group)], &completions[size_t(i)]});
  std::vector<double> times;
  for (int rep = 0; rep < 4; ++rep) {
    model.zero_grad();
    const auto start = std::chrono::steady_clock::now();
    upm::completion_logprobs(model, rows, false, false, share_prompts).logprobs.sum().backward();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) times.push_back(s);  // the first is warm-up
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // stdout carries the JSON only
  const auto dir = std::filesystem::temp_directory_path() / ("upm-bench-rl-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const int64_t users = arg(argc, argv, "--users", 8);
  write_users(dir.string(), users * 2);

  upm::GrpoConfig c;
  c.run_dir = (dir / "run").string();
  c.policy = make_policy(dir.string(), arg(argc, argv, "--hidden", 256), arg(argc, argv, "--layers", 4));
  c.prompts.templates_dir = upm::source_dir() + "/tests/data/train/rl_prompts";
  c.data.users = (dir / "users.jsonl").string();
  c.data.tasks = (dir / "tasks.jsonl").string();
  c.reward.require_think = false;  // a random policy: every output is judged
  c.generation.max_new_tokens = arg(argc, argv, "--new-tokens", 32);
  c.generation.stop_at_eos = false;  // every sample generates max_new_tokens: comparable runs
  c.group_size = arg(argc, argv, "--group", 4);
  c.users_per_step = users;
  c.max_steps = arg(argc, argv, "--steps", 4);
  c.threads = 1;
  upm::run_grpo(c);

  double rollout = 0, reward = 0, optim = 0, total = 0, tokens_per_s = 0;
  int64_t n = 0;
  std::ifstream in(c.run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto m = nlohmann::json::parse(line);
    if (m["step"].get<int64_t>() == 1) continue;  // warm-up step
    rollout += m["rollout_s"].get<double>();
    reward += m["reward_s"].get<double>();
    optim += m["optim_s"].get<double>();
    total += m["step_time_s"].get<double>();
    tokens_per_s += m["rollout_tokens_per_s"].get<double>();
    ++n;
  }
  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(torch::Device(torch::kCPU));
  out["shape"] = {{"users_per_step", users},
                  {"group_size", c.group_size},
                  {"new_tokens", c.generation.max_new_tokens},
                  {"steps_measured", n}};
  out["shape"]["hidden"] = arg(argc, argv, "--hidden", 256);
  out["shape"]["layers"] = arg(argc, argv, "--layers", 4);
  out["step_time_s"] = n ? total / double(n) : 0.0;
  out["rollout_tokens_per_s"] = n ? tokens_per_s / double(n) : 0.0;
  {
    auto model = upm::load_pretrained(c.policy);
    const int64_t prompt_tokens = arg(argc, argv, "--prompt-tokens", 512);
    const double packed =
        logprob_pass_seconds(*model, users, c.group_size, prompt_tokens, c.generation.max_new_tokens, true);
    const double apart =
        logprob_pass_seconds(*model, users, c.group_size, prompt_tokens, c.generation.max_new_tokens, false);
    out["logprob_pass"] = {{"prompt_tokens", prompt_tokens},
                           {"packed_s", packed},
                           {"one_row_per_sample_s", apart},
                           {"speedup", packed > 0 ? apart / packed : 0.0}};
  }
  out["share"] = {{"rollout", total > 0 ? rollout / total : 0.0},
                  {"reward", total > 0 ? reward / total : 0.0},
                  {"optimization", total > 0 ? optim / total : 0.0},
                  {"other", total > 0 ? 1.0 - (rollout + reward + optim) / total : 0.0}};
  std::cout << out.dump(2) << std::endl;
  std::filesystem::remove_all(dir);
  return 0;
}
