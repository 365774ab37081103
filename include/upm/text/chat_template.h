#pragma once
// Chat templates: system/user/assistant messages -> the exact prompt string
// Hugging Face's apply_chat_template renders with the model's own Jinja
// template (checked against goldens by tools/reference/chat_goldens.py).
// Families: Qwen3 (ChatML + <think> tags), ChatML (Qwen2 / Qwen2.5 with their
// default system prompt; "plain" = ChatML without one, for our small
// models), Llama 3 and Llama 3.1 (header ids, bos, date lines).

#include <string>
#include <vector>

namespace upm {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatOptions {
  bool add_generation_prompt = false;  // end with the assistant's header
  // Qwen3: false adds the empty "<think>\n\n</think>\n\n" after the
  // generation prompt (the template's enable_thinking=false).
  bool enable_thinking = true;
  std::string date_string = "26 Jul 2024";  // Llama 3.1's "Today Date" (its template's default)
};

class ChatTemplate {
 public:
  enum class Family { kChatml, kQwen3, kLlama3, kLlama31 };

  // By name: qwen3, qwen2, qwen2.5, chatml, plain, llama3, llama3.1.
  // InputError listing the names for anything else.
  static ChatTemplate named(const std::string& name);
  // Recognises a Jinja chat_template (from tokenizer_config.json) by its
  // family's markers; InputError naming `source` when none fits.
  static ChatTemplate recognise(const std::string& jinja, const std::string& source);
  // The model folder's template: `override_name` if given, else the
  // chat_template of tokenizer_config.json, else "plain".
  static ChatTemplate for_model(const std::string& model_dir, const std::string& override_name = "");

  std::string render(const std::vector<ChatMessage>& messages, const ChatOptions& options = {}) const;

  const std::string& name() const { return name_; }
  Family family() const { return family_; }

 private:
  ChatTemplate(Family family, std::string name, std::string default_system = "");
  std::string render_chatml(const std::vector<ChatMessage>& messages, const ChatOptions& options) const;
  std::string render_qwen3(const std::vector<ChatMessage>& messages, const ChatOptions& options) const;
  std::string render_llama(const std::vector<ChatMessage>& messages, const ChatOptions& options) const;

  Family family_;
  std::string name_;
  std::string default_system_;  // ChatML: system turn added when the chat has none
  std::string bos_ = "<|begin_of_text|>";
};

}  // namespace upm
