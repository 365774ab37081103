#include "upm/infer/text_generation.h"

#include "upm/core/error.h"
#include "upm/infer/language_model.h"
#include "upm/text/tokenizer.h"
#include "upm/text/utf8.h"

namespace upm {

namespace {

std::vector<std::vector<int64_t>> encode_prompts(const Generator& generator, const std::vector<std::string>& prompts,
                                                 bool add_special) {
  if (!generator.tokenizer()) throw InputError(Location{"", 0, "tokenizer"}, "text generation needs a tokenizer");
  std::vector<std::vector<int64_t>> out;
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::vector<TokenId> ids = generator.tokenizer()->encode(prompts[p], add_special);
    if (ids.empty()) throw InputError(Location{"", 0, "prompt " + std::to_string(p)}, "prompt encodes to no tokens");
    out.emplace_back(ids.begin(), ids.end());
  }
  return out;
}

}  // namespace

std::vector<Generation> generate_text(Generator& generator, const std::vector<std::string>& prompts,
                                      const GenerationConfig& config, bool add_special) {
  return generator.generate(encode_prompts(generator, prompts, add_special), config);
}

std::vector<Generation> generate_text_group(Generator& generator, const std::string& prompt, int64_t group_size,
                                            const GenerationConfig& config, bool add_special) {
  return generator.generate_groups(encode_prompts(generator, {prompt}, add_special), group_size, config);
}

std::vector<Generation> generate_chat(Generator& generator, const ChatTemplate& chat_template,
                                      const std::vector<std::vector<ChatMessage>>& chats,
                                      const GenerationConfig& config, ChatOptions options) {
  options.add_generation_prompt = true;
  std::vector<std::string> prompts;
  for (const auto& chat : chats) prompts.push_back(chat_template.render(chat, options));
  return generate_text(generator, prompts, config, /*add_special=*/false);
}

std::vector<std::string> generate_texts(LanguageModel& lm, const std::vector<std::string>& prompts,
                                        const GenerationConfig& config) {
  std::vector<std::vector<int64_t>> ids;
  ids.reserve(prompts.size());
  for (const std::string& prompt : prompts) ids.push_back(encode_prompt(lm, prompt));
  Generator generator(*lm.model, lm.tokenizer.get());
  std::vector<std::string> out;
  out.reserve(prompts.size());
  for (const Generation& generation : generator.generate(ids, config)) out.push_back(text::utf8_lossy(generation.text));
  return out;
}

}  // namespace upm
