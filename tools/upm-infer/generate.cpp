// upm-infer generate: continue a prompt given as token ids (--ids), text
// (--prompt) or a chat (--messages FILE.json, rendered by the model's chat
// template), greedily (the default) or sampled; --num-samples N decodes N
// samples of the prompt as one shared-prefix group.
#include <cstdio>
#include <memory>
#include <sstream>

#include "model_options.h"
#include "upm/core/cli.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/infer/generation_flags.h"
#include "upm/infer/text_generation.h"
#include "upm/text/chat_template.h"
#include "upm/text/tokenizer.h"

namespace upm::infer_tool {
namespace {

struct GenerateCommand {
  ModelOptions model;
  std::string ids, prompt, messages, chat_template;
  GenerationConfig generation;
  int64_t num_samples = 1;
  bool json = false;
};

// "1,2,3" -> {1, 2, 3}; anything else is an InputError naming --ids.
std::vector<int64_t> parse_ids(const std::string& text) {
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

// A JSON file holding [{"role": ..., "content": ...}, ...] or {"messages": [...]}.
std::vector<ChatMessage> read_messages(const std::string& path) {
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

void print(const std::vector<Generation>& outs, bool json, bool text) {
  for (size_t i = 0; i < outs.size(); ++i) {
    if (json) {
      nlohmann::json line = generation_to_json(outs[i]);
      line["sample"] = i;
      // A sample cut by max_new_tokens may end inside a UTF-8 character: replace, don't fail.
      std::printf("%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (text) {
      std::printf("%s\n", outs[i].text.c_str());
    } else {
      std::string line;
      for (int64_t id : outs[i].tokens) line += (line.empty() ? "" : " ") + std::to_string(id);
      std::printf("%s\n", line.c_str());
    }
  }
}

int run_generate(const GenerateCommand& c) {
  const int sources = !c.ids.empty() + !c.prompt.empty() + !c.messages.empty();
  if (sources != 1) throw InputError(Location{"", 0, "--ids"}, "give exactly one of --ids, --prompt, --messages");
  std::vector<int64_t> prompt_ids;
  if (!c.ids.empty()) prompt_ids = parse_ids(c.ids);
  std::vector<ChatMessage> chat;
  if (!c.messages.empty()) chat = read_messages(c.messages);
  auto model = load_model(c.model);
  // A tokenizer is needed for text prompts and stop strings; ids-only runs work without one.
  std::unique_ptr<Tokenizer> tokenizer;
  if (!c.ids.empty() && c.generation.stop_strings.empty()) {
    try {
      tokenizer = load_tokenizer(c.model.model);
    } catch (const InputError&) {
    }
  } else {
    tokenizer = load_tokenizer(c.model.model);
  }
  Generator generator(*model, tokenizer.get());
  std::vector<TokenId> text_ids;
  if (!c.prompt.empty()) text_ids = tokenizer->encode(c.prompt, /*add_special=*/true);
  if (!chat.empty()) {
    ChatOptions options;
    options.add_generation_prompt = true;
    // The rendered chat carries its own special tokens (bos).
    text_ids = tokenizer->encode(ChatTemplate::for_model(c.model.model, c.chat_template).render(chat, options));
  }
  if (c.ids.empty()) prompt_ids.assign(text_ids.begin(), text_ids.end());
  print(generator.generate_groups({prompt_ids}, c.num_samples, c.generation), c.json, c.ids.empty());
  return kExitOk;
}

cli::RegisterSubcommand generate_command{
    "generate", "continue a prompt (token ids, text or chat messages), greedy or sampled", [](CLI::App& cmd) {
      auto c = std::make_shared<GenerateCommand>();
      c->generation.sampling.temperature = 0.0;  // greedy unless asked
      c->generation.max_new_tokens = 32;
      add_model_options(cmd, c->model);
      cmd.add_option("--ids", c->ids, "prompt token ids, comma-separated (e.g. 1,2,3)");
      cmd.add_option("--prompt", c->prompt, "prompt text (the tokenizer's special tokens, e.g. bos, are added)");
      cmd.add_option("--messages", c->messages, "a JSON file holding a chat: [{\"role\": \"user\", \"content\": \"...\"}, ...]");
      cmd.add_option("--chat-template", c->chat_template, "template name overriding the model's (qwen3, plain, llama3, ...)");
      add_generation_flags(cmd, c->generation, c->num_samples);
      cmd.add_option("--stop-ids", c->generation.stop_token_ids, "token ids that end the generation (kept in the output)")
          ->delimiter(',');
      cmd.add_flag("--json", c->json, "one JSON line per sample: {ids, logprobs, text, finish_reason, sample}");
      return [c] { return run_generate(*c); };
    }};

}  // namespace
}  // namespace upm::infer_tool
