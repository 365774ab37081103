#include "upm/infer/generate_job.h"

#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/infer/generation_flags.h"
#include "upm/model/weights_loader.h"
#include "upm/text/tokenizer.h"

namespace upm {

std::vector<int64_t> parse_token_ids(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int64_t id = 0;
    try {
      id = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) {
      throw InputError(Location{"--ids", 0, ""}, "expected comma-separated token ids, got \"" + item + "\"");
    }
    out.push_back(id);
  }
  return out;
}

std::vector<ChatMessage> read_chat_messages(const std::string& path) {
  nlohmann::json json = read_json_file(path);
  if (json.is_object() && json.contains("messages")) json = json["messages"];
  if (!json.is_array()) throw InputError(Location{path, 0, "messages"}, "expected an array of {role, content}");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < json.size(); ++i) {
    const std::string field = "messages[" + std::to_string(i) + "]";
    const auto& m = json[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string()) {
      throw InputError(Location{path, 0, field}, "expected {\"role\": string, \"content\": string}");
    }
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

std::vector<Generation> run_generate_job(const GenerateJob& job) {
  const int sources = !job.ids.empty() + !job.prompt.empty() + !job.messages.empty();
  if (sources != 1) throw InputError(Location{"", 0, "--ids"}, "give exactly one of --ids, --prompt, --messages");
  std::vector<int64_t> prompt_ids;
  if (!job.ids.empty()) prompt_ids = parse_token_ids(job.ids);
  std::vector<ChatMessage> chat;
  if (!job.messages.empty()) chat = read_chat_messages(job.messages);
  std::shared_ptr<CausalLM> model = load_pretrained(job.model, job.runtime);
  std::unique_ptr<Tokenizer> tokenizer;
  if (!job.ids.empty() && job.generation.stop_strings.empty()) {
    try {
      tokenizer = load_tokenizer(job.model);
    } catch (const InputError&) {}
  } else {
    tokenizer = load_tokenizer(job.model);
  }
  Generator generator(*model, tokenizer.get());
  std::vector<TokenId> text_ids;
  if (!job.prompt.empty()) text_ids = tokenizer->encode(job.prompt, /*add_special=*/true);
  if (!chat.empty()) {
    ChatOptions options;
    options.add_generation_prompt = true;
    // The rendered chat carries its own special tokens (bos).
    text_ids = tokenizer->encode(ChatTemplate::for_model(job.model, job.chat_template).render(chat, options));
  }
  if (job.ids.empty()) prompt_ids.assign(text_ids.begin(), text_ids.end());
  return generator.generate_groups({prompt_ids}, job.num_samples, job.generation);
}

std::vector<std::string> format_generations(const std::vector<Generation>& outs, GenerationPrint print) {
  std::vector<std::string> out;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (print == GenerationPrint::json) {
      nlohmann::json line = generation_to_json(outs[i]);
      line["sample"] = i;
      // A sample cut by max_new_tokens may end inside a UTF-8 character: replace, don't fail.
      out.push_back(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else if (print == GenerationPrint::text) {
      out.push_back(outs[i].text);
    } else {
      std::string line;
      for (int64_t id : outs[i].tokens) line += (line.empty() ? "" : " ") + std::to_string(id);
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace upm
