#include "upm/pipeline/profile/profile_writer.h"

#include "upm/core/error.h"
#include "upm/infer/text_generation.h"

namespace upm {

WrittenProfile written_profile(const std::string& generated) {
  WrittenProfile out;
  out.text = split_profile_text(generated);
  if (!out.text.well_formed) {
    out.problem = "the model did not close its <think> block within generation.max_new_tokens";
  } else if (out.text.profile.empty()) {
    out.problem = "the model wrote an empty profile";
  } else {
    out.ok = true;
  }
  return out;
}

std::vector<WrittenProfile> write_profile_batch(LanguageModel& lm, const std::vector<std::string>& prompts,
                                                const GenerationConfig& config) {
  std::vector<WrittenProfile> out(prompts.size());
  std::vector<std::string> texts;
  try {
    texts = generate_texts(lm, prompts, config);
  } catch (const InputError& e) {
    if (prompts.size() == 1) {
      out[0].problem = e.what();
      return out;
    }
    for (size_t i = 0; i < prompts.size(); ++i) out[i] = write_profile_batch(lm, {prompts[i]}, config)[0];
    return out;
  }
  for (size_t i = 0; i < prompts.size(); ++i) out[i] = written_profile(texts[i]);
  return out;
}

}  // namespace upm
