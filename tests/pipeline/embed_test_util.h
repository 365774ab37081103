#pragma once
// Shared by the embedding tests: small model folders assembled in a temp dir
// from the parity models' architectures (tests/data/model/<family>) with the
// vocabulary widened to the test tokenizer's (tests/data/text/tiny_bpe),
// random weights from a seed, and optionally a <USER_EMB> added token.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "upm/core/config.h"
#include "upm/model/causal_lm.h"
#include "upm/model/model_config.h"
#include "upm/model/weights_loader.h"
#include "test_paths.h"

namespace upm::test {

inline constexpr int64_t kTinyVocab = 896;  // tiny_bpe has 865 tokens (+1 marker)

inline std::string tiny_tokenizer_json() { return upm::test::test_data_dir() + "/text/tiny_bpe/tokenizer.json"; }

// The parity model's config with the vocabulary widened.
inline ModelConfig tiny_config(const std::string& family) {
  ModelConfig c = load_model_config(upm::test::test_data_dir() + "/model/" + family + "/config.json");
  c.vocab_size = kTinyVocab;
  return c;
}

inline std::shared_ptr<CausalLM> tiny_model(const std::string& family, uint64_t seed = 7) {
  return std::make_shared<CausalLM>(tiny_config(family), ModelRuntime{}, InitMode::random, seed);
}

// Writes <dir>/config.json, model.safetensors and tokenizer.json; with
// `marker` the tokenizer gains the added special token <USER_EMB>.
inline void write_tiny_model_folder(const std::string& dir, const std::string& family, bool marker, uint64_t seed = 7) {
  std::filesystem::create_directories(dir);
  save_pretrained(*tiny_model(family, seed), dir);
  nlohmann::json tokenizer = read_json_file(tiny_tokenizer_json());
  if (marker) {
    tokenizer["added_tokens"].push_back({{"id", 865},
                                         {"content", "<USER_EMB>"},
                                         {"single_word", false},
                                         {"lstrip", false},
                                         {"rstrip", false},
                                         {"normalized", false},
                                         {"special", true}});
  }
  std::ofstream(dir + "/tokenizer.json") << tokenizer.dump();
}

inline void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace upm::test
