// Each family's renderer follows its model's Jinja template line by line for
// system/user/assistant messages (tool calls are not supported); string
// operations follow Python's, since transformers renders with jinja2.

#include "upm/text/chat_template.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "added_tokens.h"
#include "upm/core/error.h"
#include "upm/text/utf8.h"

namespace upm {
namespace {

const char* const kQwenDefaultSystem = "You are a helpful assistant.";
const char* const kQwen25DefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

// Python's str.isspace(): Unicode White_Space plus the four ASCII separators.
bool python_space(char32_t cp) { return text::is_unicode_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

// Python's str.strip() (Jinja's `trim`), on whole code points.
std::string python_strip(const std::string& s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end) {
    std::size_t next = begin;
    if (!python_space(text::next_code_point(s, next))) break;
    begin = next;
  }
  while (end > begin) {
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::size_t probe = start;
    if (!python_space(text::next_code_point(s, probe))) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::string lstrip_newlines(const std::string& s) {
  std::size_t begin = s.find_first_not_of('\n');
  return begin == std::string::npos ? std::string() : s.substr(begin);
}

std::string rstrip_newlines(const std::string& s) {
  std::size_t end = s.find_last_not_of('\n');
  return end == std::string::npos ? std::string() : s.substr(0, end + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Python's s.split(sep)[0] and s.split(sep)[-1].
std::string before_first(const std::string& s, const std::string& sep) { return s.substr(0, s.find(sep)); }
std::string after_last(const std::string& s, const std::string& sep) {
  std::size_t at = s.rfind(sep);
  return at == std::string::npos ? s : s.substr(at + sep.size());
}

void check_messages(const std::vector<ChatMessage>& messages, const std::string& name) {
  if (messages.empty()) throw InputError("chat template " + name + ": no messages to render");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant")
      throw InputError(Location{"", 0, "messages[" + std::to_string(i) + "].role"},
                       "'" + role + "' is not one of system, user, assistant");
  }
}

// The system turn a ChatML template writes when the chat opens without one
// (Qwen2's, SmolLM2's): the literal after '<|im_start|>system' and a newline
// up to '<|im_end|>', when that text is a constant of the template rather
// than an expression (Qwen3 writes the chat's own system message there).
// "" when there is none.
std::string chatml_default_system(const std::string& jinja) {
  const std::string head = "'<|im_start|>system";
  for (size_t at = jinja.find(head); at != std::string::npos; at = jinja.find(head, at + 1)) {
    size_t start = at + head.size();
    if (jinja.compare(start, 2, "\\n") == 0) {
      start += 2;
    } else if (jinja.compare(start, 1, "\n") == 0) {
      start += 1;
    } else {
      continue;
    }
    const size_t end = jinja.find("<|im_end|>", start);
    if (end == std::string::npos) continue;
    std::string text = jinja.substr(start, end - start);
    if (text.empty() || text.find_first_of("'\"{}+\\") != std::string::npos) continue;
    return text;
  }
  return "";
}

}  // namespace

ChatTemplate::ChatTemplate(Family family, std::string name, std::string default_system)
    : family_(family), name_(std::move(name)), default_system_(std::move(default_system)) {}

ChatTemplate ChatTemplate::named(const std::string& name) {
  if (name == "qwen3") return ChatTemplate(Family::kQwen3, name);
  if (name == "qwen2") return ChatTemplate(Family::kChatml, name, kQwenDefaultSystem);
  if (name == "qwen2.5") return ChatTemplate(Family::kChatml, name, kQwen25DefaultSystem);
  if (name == "chatml" || name == "plain") return ChatTemplate(Family::kChatml, name);
  if (name == "llama3") return ChatTemplate(Family::kLlama3, name);
  if (name == "llama3.1") return ChatTemplate(Family::kLlama31, name);
  throw InputError(Location{"", 0, "chat_template"},
                   "unknown template '" + name + "' (one of qwen3, qwen2, qwen2.5, chatml, plain, llama3, llama3.1)");
}

ChatTemplate ChatTemplate::recognise(const std::string& jinja, const std::string& source) {
  auto has = [&](const char* marker) { return jinja.find(marker) != std::string::npos; };
  if (has("<|im_start|>")) {
    if (has("<think>") && has("enable_thinking")) return named("qwen3");
    if (has(kQwen25DefaultSystem)) return named("qwen2.5");
    if (has(kQwenDefaultSystem)) return named("qwen2");
    return ChatTemplate(Family::kChatml, "chatml", chatml_default_system(jinja));
  }
  if (has("<|start_header_id|>")) return named(has("Cutting Knowledge Date") ? "llama3.1" : "llama3");
  throw InputError(Location{source, 0, "chat_template"},
                   "not a recognised template family (Qwen ChatML, Llama 3); choose one by name");
}

namespace {

// A JSON object file of the model folder, or null when the file is absent.
nlohmann::json read_folder_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return nullptr;
  auto value = nlohmann::json::parse(file, nullptr, false);
  if (value.is_discarded() || !value.is_object()) throw InputError(Location{path.string(), 0, ""}, "not a JSON object");
  return value;
}

// tokenizer_config.json's chat_template: a string, or a list of named
// templates of which HF uses "default"; "" when there is none.
std::string config_template(const nlohmann::json& config, const std::string& source) {
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array())
    for (const auto& entry : *it)
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string())
        return entry["template"].get<std::string>();
  throw InputError(Location{source, 0, "chat_template"}, "expected a template string");
}

}  // namespace

ChatTemplate ChatTemplate::for_model(const std::string& model_dir, const std::string& override_name) {
  if (!override_name.empty()) return named(override_name);
  std::filesystem::path dir(model_dir);
  std::string config_path = (dir / "tokenizer_config.json").string();
  nlohmann::json config = read_folder_json(config_path);
  std::string jinja = config.is_object() ? config_template(config, config_path) : "";
  if (jinja.empty()) {
    // Without a template, only a model type that names one family decides
    // (a "qwen2" or "llama" model type spans several templates).
    nlohmann::json model_config = read_folder_json(dir / "config.json");
    bool qwen3 = model_config.is_object() && model_config.value("model_type", "") == "qwen3";
    return named(qwen3 ? "qwen3" : "plain");
  }
  ChatTemplate chat = recognise(jinja, config_path);
  auto bos = config.find("bos_token");
  if (bos != config.end() && bos->is_string()) chat.bos_ = bos->get<std::string>();
  return chat;
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  check_messages(messages, name_);
  switch (family_) {
    case Family::kQwen3: return render_qwen3(messages, options);
    case Family::kChatml: return render_chatml(messages, options);
    default: return render_llama(messages, options);
  }
}

std::string ChatTemplate::render_chatml(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  std::string out;
  if (!default_system_.empty() && messages.front().role != "system")
    out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
  for (const auto& message : messages) out += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n";
  if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string ChatTemplate::render_qwen3(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  std::string out;
  if (messages.front().role == "system") out += "<|im_start|>system\n" + messages.front().content + "<|im_end|>\n";
  // The last real user turn: reasoning is shown only for answers after it.
  std::size_t last_query = messages.size() - 1;
  for (std::size_t i = messages.size(); i-- > 0;) {
    const auto& m = messages[i];
    if (m.role == "user" && !(starts_with(m.content, "<tool_response>") && ends_with(m.content, "</tool_response>"))) {
      last_query = i;
      break;
    }
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      continue;
    }
    if (m.role != "assistant") continue;
    std::string content = m.content, reasoning;
    if (content.find("</think>") != std::string::npos) {
      reasoning = lstrip_newlines(after_last(rstrip_newlines(before_first(content, "</think>")), "<think>"));
      content = lstrip_newlines(after_last(content, "</think>"));
    }
    if (i > last_query && (i + 1 == messages.size() || !reasoning.empty())) {
      out += "<|im_start|>assistant\n<think>\n" + lstrip_newlines(rstrip_newlines(reasoning)) + "\n</think>\n\n" +
             lstrip_newlines(content);
    } else {
      out += "<|im_start|>assistant\n" + content;
    }
    out += "<|im_end|>\n";
  }
  if (options.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (!options.enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

std::string ChatTemplate::render_llama(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  auto turn = [](const std::string& role, const std::string& content) {
    return "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + content + "<|eot_id|>";
  };
  std::string out = bos_;
  std::size_t first = 0;
  if (family_ == Family::kLlama31) {
    // 3.1 always opens with a system turn holding the date lines.
    std::string system;
    if (messages.front().role == "system") {
      system = python_strip(messages.front().content);
      first = 1;
    }
    out +=
        turn("system", "Cutting Knowledge Date: December 2023\nToday Date: " + options.date_string + "\n\n" + system);
  }
  for (std::size_t i = first; i < messages.size(); ++i)
    out += turn(messages[i].role, python_strip(messages[i].content));
  if (options.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace upm
