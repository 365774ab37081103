#include "upm/infer/chat_session.h"

#include <iostream>

#include "upm/core/error.h"
#include "upm/core/random.h"
#include "upm/infer/generator.h"
#include "upm/infer/language_model.h"
#include "upm/infer/text_generation.h"
#include "upm/text/utf8.h"

namespace upm {

ChatSession::ChatSession(LanguageModel& lm, GenerationConfig config, std::string system)
    : lm_(lm), config_(std::move(config)), system_(std::move(system)) {
  if (!lm_.chat_template) {
    throw InputError(Location{lm_.dir, 0, "chat_template"}, "a chat needs the model's chat template");
  }
  reset();
}

void ChatSession::reset() {
  messages_.clear();
  if (!system_.empty()) messages_.push_back({"system", system_});
}

std::string ChatSession::render_with(const std::string& user_text) const {
  std::vector<ChatMessage> chat = messages_;
  chat.push_back({"user", user_text});
  ChatOptions options;
  options.add_generation_prompt = true;
  options.enable_thinking = lm_.enable_thinking;
  return lm_.chat_template->render(chat, options);
}

std::string ChatSession::reply(const std::string& user_text) {
  const std::string prompt = render_with(user_text);
  GenerationConfig config = config_;
  // Each reply draws fresh samples, yet a session replays from its seed.
  config.sampling.seed = sequence_seed(config_.sampling.seed, uint64_t(replies_));
  Generator generator(*lm_.model, lm_.tokenizer.get());
  const std::vector<Generation> out = generate_text(generator, {prompt}, config, /*add_special=*/false);
  std::string answer = text::utf8_lossy(out.front().text);
  messages_.push_back({"user", user_text});
  messages_.push_back({"assistant", answer});
  ++replies_;
  return answer;
}

void run_chat(const ChatJob& job, std::istream& in, std::ostream& out, std::ostream* prompt) {
  PromptFormat format;
  format.kind = "chat";
  format.chat_template = job.chat_template;
  LanguageModel lm = load_language_model(job.model, job.runtime, format);
  ChatSession chat(lm, job.generation, job.system);
  auto answer = [&](const std::string& turn) { out << chat.reply(turn) << "\n\n" << std::flush; };
  if (!job.turns.empty()) {
    for (const std::string& turn : job.turns) answer(turn);
    return;
  }
  std::string line;
  while (true) {
    if (prompt) *prompt << "> " << std::flush;
    if (!std::getline(in, line)) break;
    if (line.empty()) continue;
    if (line == "/reset") {
      chat.reset();
      continue;
    }
    answer(line);
  }
}

}  // namespace upm
