#include "upm/pipeline/text_generation.h"

#include <algorithm>

#include "upm/infer/generation_config.h"
#include "upm/infer/generator.h"
#include "upm/infer/sampler.h"
#include "upm/infer/language_model.h"
#include "upm/text/tokenizer.h"
#include "upm/text/utf8.h"

namespace upm {

std::vector<std::string> generate_texts(LanguageModel& lm, const std::vector<std::string>& prompts,
                                        const GenerationSettings& settings) {
  GenerationConfig config;
  config.sampling = settings.sampling;
  config.max_new_tokens = settings.max_new_tokens;
  config.stop_token_ids = stop_token_ids(lm);
  config.skip_special_tokens = true;
  Generator generator(*lm.model, lm.tokenizer.get());
  std::vector<std::string> out;
  out.reserve(prompts.size());
  const size_t step = size_t(std::max<int64_t>(1, settings.batch_size));
  for (size_t start = 0; start < prompts.size(); start += step) {
    std::vector<std::vector<int64_t>> batch;
    std::vector<uint64_t> seeds;
    for (size_t i = start; i < std::min(prompts.size(), start + step); ++i) {
      batch.push_back(encode_prompt(lm, prompts[i]));
      seeds.push_back(sequence_seed(settings.sampling.seed, i));
    }
    for (const Generation& generation : generator.generate(batch, config, seeds)) {
      // A generation can stop inside a multi-byte character (or a model can
      // emit invalid byte sequences): repaired as HF's decode does, so that
      // every output is valid UTF-8 for the JSONL files.
      out.push_back(text::utf8_lossy(generation.text));
    }
  }
  return out;
}

}  // namespace upm
