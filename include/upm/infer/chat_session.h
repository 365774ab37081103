#pragma once
// A conversation with an instruct model: the turns so far, rendered by the
// model's chat template on every reply, as `transformers`' apply_chat_template
// followed by generate would. `upm-infer chat` is its command-line face.
//
//   ChatSession chat(lm, config, "You are terse.");
//   chat.reply("Name a film by Hitchcock.");   // -> "Vertigo."
//   chat.reply("And another?");                 // reads the first exchange too

#include <iosfwd>
#include <string>
#include <vector>

#include "upm/infer/generation_config.h"
#include "upm/model/model_runtime.h"
#include "upm/text/chat_template.h"

namespace upm {

struct LanguageModel;

class ChatSession {
 public:
  // `lm` needs a chat template (load it with prompt_format.kind "chat").
  // `system` opens the chat when not empty; otherwise the template's own
  // default system turn (if it has one) applies.
  ChatSession(LanguageModel& lm, GenerationConfig config, std::string system = "");

  // Appends the user's turn, generates the assistant's answer (until the
  // model's end of turn or max_new_tokens), appends it and returns it.
  std::string reply(const std::string& user_text);

  // Forgets every turn (the system text stays).
  void reset();

  const std::vector<ChatMessage>& messages() const { return messages_; }
  // The prompt the next reply would read after `user_text`.
  std::string render_with(const std::string& user_text) const;

 private:
  LanguageModel& lm_;
  GenerationConfig config_;
  std::string system_;
  std::vector<ChatMessage> messages_;
  int64_t replies_ = 0;
};

// `upm-infer chat`: a model folder and the turns to answer.
struct ChatJob {
  std::string model;
  ModelRuntime runtime;
  std::string chat_template;  // a template name overriding the folder's; "" = the folder's
  std::string system;         // "" = the template's default system turn, if any
  GenerationConfig generation;
  std::vector<std::string> turns;  // user turns answered in order; none = read lines from the input
};

// Loads the model and answers job.turns in order, or, when there are none,
// each line of `in` until its end ("/reset" forgets the conversation, an empty
// line is skipped). Each answer is written to `out` followed by an empty line;
// `prompt` (when not null) gets "> " before each line is read.
void run_chat(const ChatJob& job, std::istream& in, std::ostream& out, std::ostream* prompt = nullptr);

}  // namespace upm
