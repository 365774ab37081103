#include "upm/infer/language_model.h"

#include <filesystem>

#include "upm/core/error.h"
#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

std::string folder_name(const std::string& dir) {
  std::filesystem::path path(dir);
  while (!path.empty() && path.filename().empty()) path = path.parent_path();
  return path.filename().string();
}

std::vector<int64_t> widen(const std::vector<TokenId>& ids) { return std::vector<int64_t>(ids.begin(), ids.end()); }

}  // namespace

LanguageModel load_language_model(const std::string& dir, const ModelRuntime& runtime, const PromptFormat& format) {
  LanguageModel lm;
  lm.dir = dir;
  lm.name = folder_name(dir);
  lm.model = load_pretrained(dir, runtime);
  lm.tokenizer = load_tokenizer(dir);
  if (format.kind == "chat") lm.chat_template = ChatTemplate::for_model(dir, format.chat_template);
  lm.enable_thinking = format.enable_thinking;
  // A tokenizer larger than the embedding table would index out of range.
  if (lm.tokenizer->vocab_size() > lm.model->config().vocab_size) {
    throw InputError(Location{dir, 0, "vocab_size"}, "tokenizer has " + std::to_string(lm.tokenizer->vocab_size()) +
                                                         " tokens but the model's vocabulary holds " +
                                                         std::to_string(lm.model->config().vocab_size));
  }
  return lm;
}

std::vector<int64_t> encode_prompt(const LanguageModel& lm, const std::string& text) {
  // BOS (when the tokenizer has one) + the text: a tokenizer's post-processor
  // may also append an EOS, which would end the prompt before it starts.
  std::vector<int64_t> ids;
  if (lm.chat_template) {
    ChatOptions options;
    options.add_generation_prompt = true;
    options.enable_thinking = lm.enable_thinking;
    ids = widen(lm.tokenizer->encode(lm.chat_template->render({{"user", text}}, options), false));
  } else {
    if (auto bos = lm.tokenizer->special_tokens().bos) ids.push_back(*bos);
    for (TokenId id : lm.tokenizer->encode(text, false)) ids.push_back(id);
  }
  const int64_t window = lm.model->config().max_position_embeddings;
  if (int64_t(ids.size()) >= window) {
    throw InputError(Location{lm.dir, 0, "max_position_embeddings"}, "prompt of " + std::to_string(ids.size()) +
                                                                         " tokens does not fit the context window of " +
                                                                         std::to_string(window));
  }
  return ids;
}

std::vector<int64_t> encode_continuation(const LanguageModel& lm, const std::string& text) {
  return widen(lm.tokenizer->encode(text, false));
}

std::vector<int64_t> stop_token_ids(const LanguageModel& lm) {
  const SpecialTokens& special = lm.tokenizer->special_tokens();
  std::vector<int64_t> stops = widen(special.stop);
  if (special.eos) stops.push_back(*special.eos);
  return stops;
}

}  // namespace upm
