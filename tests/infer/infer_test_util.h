#pragma once
// Shared by the infer tests: the tiny reference models of tests/data/model
// (vocabulary 128) and a random model sized for the tiny BPE tokenizer, so
// that text-level behaviour (stop strings) runs on real decoded text.

#include <memory>
#include <string>
#include <vector>

#include "model/model_test_util.h"
#include "upm/model/model_config.h"
#include "upm/text/tokenizer.h"
#include "test_paths.h"

namespace upm::test {

inline std::unique_ptr<Tokenizer> tiny_tokenizer() {
  return load_tokenizer(upm::test::test_data_dir() + "/text/tiny_bpe/tokenizer.json");
}

// The qwen3 test architecture with the tiny tokenizer's vocabulary and
// weights wide enough that its next-token distributions are not flat.
inline std::shared_ptr<CausalLM> random_text_model(int64_t vocab_size, uint64_t seed = 5) {
  ModelConfig config = load_model_config(model_dir("qwen3"));
  config.vocab_size = vocab_size;
  config.initializer_range = 0.3;
  return std::make_shared<CausalLM>(config, ModelRuntime{}, InitMode::random, seed);
}

// Three prompts of different lengths from the reference inputs.
inline std::vector<std::vector<int64_t>> mixed_prompts(const std::string& family) {
  std::vector<int64_t> all = to_vector(golden(family, "input_ids").flatten());
  return {{all.begin(), all.begin() + 9}, {all.begin() + 12, all.begin() + 15}, {all.begin() + 3, all.begin() + 10}};
}

}  // namespace upm::test
