#include "upm/infer/greedy.h"

#include <algorithm>

#include "upm/infer/generator.h"

namespace upm {

std::vector<std::vector<int64_t>> greedy_generate(CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                                  const GreedyOptions& options) {
  GenerationConfig config;
  config.sampling.temperature = 0.0;
  config.max_new_tokens = std::max<int64_t>(0, options.max_new_tokens);
  config.stop_token_ids = options.stop_ids;
  config.stop_at_eos = false;
  config.max_batch_sequences = std::max<int64_t>(1, int64_t(prompts.size()));
  Generator generator(model);
  std::vector<std::vector<int64_t>> out;
  for (auto& g : generator.generate(prompts, config)) out.push_back(std::move(g.tokens));
  return out;
}

}  // namespace upm
