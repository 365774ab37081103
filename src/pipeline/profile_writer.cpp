#include "upm/pipeline/profile_writer.h"

#include "upm/core/error.h"

namespace upm {

std::vector<WrittenProfile> write_profile_batch(LanguageModel& lm, const std::vector<std::string>& prompts,
                                                const GenerationSettings& settings) {
  std::vector<WrittenProfile> out(prompts.size());
  std::vector<std::string> texts;
  try {
    texts = generate_texts(lm, prompts, settings);
  } catch (const InputError& e) {
    if (prompts.size() == 1) {
      out[0].problem = e.what();
      return out;
    }
    for (size_t i = 0; i < prompts.size(); ++i) out[i] = write_profile_batch(lm, {prompts[i]}, settings)[0];
    return out;
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    out[i].text = split_profile_text(texts[i]);
    out[i].ok = out[i].text.well_formed;
    if (!out[i].ok) out[i].problem = "the model did not close its <think> block within generation.max_new_tokens";
  }
  return out;
}

}  // namespace upm
