#pragma once
// Fixtures of the RL tests, all built from real parts in a temp dir:
//   * a "topic world": users whose history says which one of four topics they
//     enjoy (among small talk), and held-out tasks "liked topic vs another";
//   * model folders of the tiny Qwen3-architecture config with the committed
//     tiny BPE tokenizer: random-init, or trained by the SFT trainer (a
//     predictor that reads "Profile: <topic>" and picks the option naming it;
//     a policy that writes "<think></think> <topic>" with the topic drawn at
//     random, i.e. it ignores the history: RL has to teach it to read it).

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train_test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/data/benchmark.h"
#include "upm/data/prompt_builder.h"
#include "upm/core/random.h"
#include "upm/data/user_log.h"
#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"
#include "upm/infer/predictor.h"
#include "upm/train/grpo_config.h"
#include "upm/train/sft_trainer.h"

namespace upm::test {

inline const std::vector<std::string>& rl_topics() {
  static const std::vector<std::string> topics{"art", "food", "jazz", "news"};
  return topics;
}

inline data::PromptConfig rl_prompt_config() {
  data::PromptConfig c;
  c.templates_dir = data_path("train/rl_prompts");
  return c;
}

struct TopicWorld {
  std::vector<data::UserLog> logs;
  std::vector<data::BenchmarkTask> tasks;
  std::vector<std::string> liked;  // per user
};

// `users` users named <prefix>N; each enjoys one topic (stated once among two
// lines of small talk, in random order) and has one task per other topic:
// "liked vs that one", the liked option at a random position.
inline TopicWorld make_topic_world(int users, uint64_t seed, const std::string& prefix) {
  static const std::vector<std::string> small_talk{"Had a long day.", "Nice weather today.", "Just moved house.",
                                                   "Anyone up early?"};
  Rng rng(seed);
  TopicWorld world;
  for (int u = 0; u < users; ++u) {
    const std::string id = prefix + std::to_string(u);
    const std::string liked = rl_topics()[rng.below(rl_topics().size())];
    std::vector<std::string> lines{"I really enjoy " + liked + ".", rng.pick(small_talk), rng.pick(small_talk)};
    rng.shuffle(lines);
    data::UserLog log;
    log.user_id = id;
    for (size_t i = 0; i < lines.size(); ++i) {
      data::Event e;
      e.id = "e" + std::to_string(i + 1);
      e.kind = data::EventKind::text;
      e.text = lines[i];
      log.events.push_back(e);
    }
    world.logs.push_back(log);
    world.liked.push_back(liked);
    int t = 0;
    for (const auto& other : rl_topics()) {
      if (other == liked) continue;
      data::BenchmarkTask task;
      task.user_id = id;
      task.task_id = id + "-t" + std::to_string(t++);
      task.context = "Pick one.";
      const bool liked_first = rng.chance(0.5);
      task.options = liked_first ? std::vector<std::string>{liked, other} : std::vector<std::string>{other, liked};
      task.label = liked_first ? 0 : 1;
      world.tasks.push_back(task);
    }
  }
  return world;
}

inline void write_topic_world(const TopicWorld& world, const std::string& users_path, const std::string& tasks_path) {
  data::write_user_logs(users_path, world.logs);
  data::write_benchmark(tasks_path, world.tasks);
}

// The tiny BPE tokenizer with a tokenizer_config.json naming its BOS/EOS, so
// that SFT rows and predictor prompts begin alike.
inline std::string rl_tokenizer_dir(const std::string& root) {
  const std::string dir = root + "/tokenizer";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(tiny_tokenizer(), dir + "/tokenizer.json",
                             std::filesystem::copy_options::overwrite_existing);
  write_file_atomic(dir + "/tokenizer_config.json", R"({"bos_token": "<|bos|>", "eos_token": "<|eos|>"})");
  return dir;
}

// A random-init model folder (the tiny SFT config) with the tokenizer.
inline std::string random_model_dir(const std::string& root, uint64_t seed) {
  ModelConfig config = load_model_config(tiny_model_config());
  CausalLM model(config, ModelRuntime{}, InitMode::random, seed);
  const std::string dir = root + "/random-" + std::to_string(seed);
  save_pretrained(model, dir);
  const std::string tok = rl_tokenizer_dir(root);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    std::filesystem::copy_file(tok + "/" + name, dir + "/" + name, std::filesystem::copy_options::overwrite_existing);
  }
  return dir;
}

// Trains a model from scratch on prompt/completion (or messages) rows; returns final/.
inline std::string sft_model(const std::string& root, const std::string& name, const std::vector<nlohmann::json>& rows,
                             int64_t steps, uint64_t seed, double lr, const std::string& chat_template = "") {
  const std::string data = root + "/" + name + ".jsonl";
  {
    std::ofstream out(data);
    for (const auto& row : rows) out << row.dump() << "\n";
  }
  SftConfig c = tiny_sft_config(root + "/" + name);
  c.tokenizer = rl_tokenizer_dir(root);
  c.data.train_file = data;
  c.data.eval_file = "";
  c.data.max_length = 256;
  c.data.chat_template = chat_template;
  c.micro_batch_size = 16;
  c.grad_accum = 1;
  c.epochs = 1000;
  c.max_steps = steps;
  c.optimizer.lr = lr;
  c.optimizer.weight_decay = 0.0;
  c.schedule.kind = "cosine";
  c.schedule.warmup_steps = 10;
  c.schedule.min_lr_ratio = 0.1;
  c.seed = seed;
  return run_sft(c).output_dir;
}

// Predictor rows (continuation mode: an option's score is log p(" " + its
// text | prompt)): the answer is the profile's topic, copied; with no profile,
// either option.
inline std::vector<nlohmann::json> predictor_rows() {
  data::PromptBuilder builder(rl_prompt_config(), [](std::string_view text) { return text.size(); });
  std::vector<nlohmann::json> rows;
  std::vector<std::string> profiles = rl_topics();
  profiles.push_back("");  // the empty profile ("Not Provided.")
  for (const auto& profile : profiles) {
    for (const auto& a : rl_topics()) {
      for (const auto& b : rl_topics()) {
        if (a == b) continue;
        data::BenchmarkTask task;
        task.task_id = "x";
        task.context = "Pick one.";
        task.options = {a, b};
        const std::string prompt = builder.predict(task, profile).text;
        for (const auto& answer :
             profile.empty() ? std::vector<std::string>{a, b} : std::vector<std::string>{profile}) {
          rows.push_back({{"prompt", prompt}, {"completion", " " + answer}});
        }
      }
    }
  }
  return rows;
}

// Judge rows in chat form (messages): the predict prompt of a task whose
// profile names one of two topics, answered by the bare letter of the option
// naming it, as a remote judge is read (remote_predictor.h).
inline std::vector<nlohmann::json> letter_judge_rows() {
  data::PromptBuilder builder(rl_prompt_config(), [](std::string_view text) { return text.size(); });
  std::vector<nlohmann::json> rows;
  for (const auto& profile : rl_topics()) {
    for (const auto& other : rl_topics()) {
      if (other == profile) continue;
      for (int first = 0; first < 2; ++first) {
        data::BenchmarkTask task;
        task.task_id = "x";
        task.context = "Pick one.";
        task.options = first ? std::vector<std::string>{profile, other} : std::vector<std::string>{other, profile};
        const std::string letter = first ? "A" : "B";
        rows.push_back({{"messages",
                         {{{"role", "user"}, {"content", builder.predict(task, profile).text}},
                          {{"role", "assistant"}, {"content", letter}}}}});
      }
    }
  }
  return rows;
}

inline PredictorConfig rl_predictor_settings() {
  PredictorConfig c;
  c.mode = "continuation";
  return c;
}

// Policy rows: the profile prompt of random users, a random topic as the answer.
inline std::vector<nlohmann::json> policy_rows(int users, uint64_t seed) {
  data::PromptBuilder builder(rl_prompt_config(), [](std::string_view text) { return text.size(); });
  TopicWorld world = make_topic_world(users, seed, "sft");
  Rng rng(seed + 1);
  std::vector<nlohmann::json> rows;
  for (const auto& log : world.logs) {
    const std::string prompt = builder.profile(log).text;
    rows.push_back({{"prompt", prompt}, {"completion", "<think></think> " + rng.pick(rl_topics())}});
  }
  return rows;
}

// A GRPO config over a topic world in `root` (users/tasks files written there).
inline GrpoConfig topic_rl_config(const std::string& root, const std::string& policy, const std::string& predictor,
                                  int train_users, int eval_users) {
  write_topic_world(make_topic_world(train_users, 11, "u"), root + "/users.jsonl", root + "/tasks.jsonl");
  if (eval_users > 0) {
    write_topic_world(make_topic_world(eval_users, 12, "v"), root + "/eval_users.jsonl", root + "/eval_tasks.jsonl");
  }
  GrpoConfig c;
  c.run_dir = root + "/run";
  c.policy = policy;
  c.prompts = rl_prompt_config();
  c.data.users = root + "/users.jsonl";
  c.data.tasks = root + "/tasks.jsonl";
  if (eval_users > 0) {
    c.data.eval_users = root + "/eval_users.jsonl";
    c.data.eval_tasks = root + "/eval_tasks.jsonl";
  }
  c.predictor.model = predictor;
  c.predictor.predictor = rl_predictor_settings();
  c.generation.max_new_tokens = 20;
  c.generation.sampling.temperature = 1.0;
  c.group_size = 4;
  c.users_per_step = 8;
  c.optimizer.lr = 3e-4;
  c.ppo_epochs = 2;
  c.minibatches = 2;
  c.eval_every = 50;
  c.reward.format_penalty = -0.3;  // a broken format costs, without drowning the topic signal
  c.optimizer.weight_decay = 0.0;
  c.schedule.kind = "constant";
  c.max_steps = 200;
  c.threads = 1;
  c.seed = 3;
  return c;
}

}  // namespace upm::test
