#pragma once
// Shared by the pipeline tests: a tiny model folder assembled from real
// pieces (a random-init Qwen3-architecture model saved by the model layer and
// the committed tiny byte-level BPE tokenizer), and small user logs.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "upm/core/config.h"
#include "upm/data/split.h"
#include "upm/data/synth.h"
#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"
#include "upm/infer/language_model.h"
#include "test_paths.h"

namespace upm::test {

// Synthetic users (data::make_synthetic_world) split into DIR/history.jsonl
// and DIR/val.jsonl (data::write_split): the build-sft tests' inputs.
struct SyntheticSplit {
  int users = 4;
  int64_t seed = 0;
  int64_t min_events = 12;
  int64_t max_events = 20;
  double val_fraction = 0.25;
};

inline void write_synthetic_split(const std::string& dir, const SyntheticSplit& s) {
  data::SynthConfig synth;
  synth.users = s.users;
  synth.seed = s.seed;
  synth.min_events = s.min_events;
  synth.max_events = s.max_events;
  data::SplitConfig split;
  split.val_fraction = s.val_fraction;
  data::write_split(data::split_logs(data::make_synthetic_world(synth).logs, split), split, dir);
}

// The folder, built once per test binary (removed at exit).
inline const std::string& tiny_model_dir() {
  static TempDir dir;
  static const std::string path = [] {
    nlohmann::json cfg = read_json_file(upm::test::test_data_dir() + "/model/qwen3/config.json");
    cfg["vocab_size"] = 896;                // room for the tokenizer's 865 ids
    cfg["max_position_embeddings"] = 4096;  // the prompt templates are long
    cfg["initializer_range"] = 0.3;         // sharper (still random) distributions than 0.02
    ModelConfig config = model_config_from_json(cfg, "tiny test model");
    CausalLM model(config, ModelRuntime{}, InitMode::random, 7);
    std::string folder = dir.file("tiny-qwen3");
    save_pretrained(model, folder);
    std::filesystem::copy_file(upm::test::test_data_dir() + "/text/tiny_bpe/tokenizer.json",
                               folder + "/tokenizer.json");
    return folder;
  }();
  return path;
}

inline LanguageModel& tiny_model() {
  static LanguageModel lm = load_language_model(tiny_model_dir(), ModelRuntime{});
  return lm;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& line : lines) out << line << "\n";
}

// A user-log line with `n` rating/text events named <prefix>1..<prefix>n.
inline std::string user_line(const std::string& user_id, int n, const std::string& prefix = "e", int first = 1) {
  nlohmann::json events = nlohmann::json::array();
  for (int i = first; i < first + n; ++i) {
    if (i % 2) {
      events.push_back({{"id", prefix + std::to_string(i)},
                        {"source", "movies"},
                        {"kind", "rating"},
                        {"item", "Movie " + std::to_string(i) + " of " + user_id},
                        {"value", 1 + i % 5}});
    } else {
      events.push_back({{"id", prefix + std::to_string(i)},
                        {"source", "forum"},
                        {"kind", "text"},
                        {"text", "I wrote note " + std::to_string(i)}});
    }
  }
  return nlohmann::json{{"user_id", user_id}, {"events", events}}.dump();
}

// Starts args[0] with `args` as a child process (for kill-and-rerun tests).
inline pid_t spawn_process(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace upm::test
