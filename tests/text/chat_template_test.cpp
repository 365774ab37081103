// Chat templates against renders of the models' own Jinja templates by
// transformers' apply_chat_template (tools/reference/chat_goldens.py).

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "test_util.h"
#include "text_test_util.h"
#include "upm/core/error.h"
#include "upm/text/chat_template.h"

namespace upm {
namespace {

using nlohmann::json;

std::vector<ChatMessage> messages_of(const json& c) {
  std::vector<ChatMessage> messages;
  for (const auto& m : c.at("messages")) messages.push_back({m.at("role"), m.at("content")});
  return messages;
}

ChatOptions options_of(const json& c) {
  ChatOptions options;
  options.add_generation_prompt = c.at("add_generation_prompt");
  options.enable_thinking = c.value("enable_thinking", true);
  options.date_string = c.value("date_string", options.date_string);
  return options;
}

TEST(ChatTemplate, RendersExactlyWhatTransformersRenders) {
  auto cases = read_jsonl_file(test::text_data("chat_cases.jsonl"));
  auto goldens = read_jsonl_file(test::text_data("chat_goldens.jsonl"));
  ASSERT_GT(goldens.size(), 40u);
  std::ifstream file(test::text_data("chat_templates.json"));
  const json fixtures = json::parse(file);
  std::set<std::string> seen;
  for (const auto& golden : goldens) {
    std::string name = golden.at("template");
    const json& c = cases.at(golden.at("case").get<std::size_t>());
    SCOPED_TRACE(name + " case " + golden.at("case").dump());
    // SmolLM2's template has no name of its own: it is read from its Jinja.
    const ChatTemplate chat = name == "smollm2" ? ChatTemplate::recognise(fixtures.at(name).at("chat_template"), name)
                                                : ChatTemplate::named(name);
    EXPECT_EQ(chat.render(messages_of(c), options_of(c)), golden.at("rendered").get<std::string>());
    seen.insert(name);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"qwen3", "llama3", "llama3.1", "qwen2", "smollm2"}));
}

TEST(ChatTemplate, RecognisesTheFamilyOfARealTemplate) {
  std::ifstream file(test::text_data("chat_templates.json"));
  json fixtures = json::parse(file);
  EXPECT_EQ(ChatTemplate::recognise(fixtures["llama3"]["chat_template"], "t").name(), "llama3");
  EXPECT_EQ(ChatTemplate::recognise(fixtures["llama3.1"]["chat_template"], "t").name(), "llama3.1");
  EXPECT_EQ(ChatTemplate::recognise(fixtures["qwen2"]["chat_template"], "t").name(), "qwen2");
  UPM_EXPECT_THROW_WITH(ChatTemplate::recognise("{{ messages }}", "cfg.json"), InputError,
                        "cfg.json: chat_template: not a recognised template family");
  UPM_EXPECT_THROW_WITH(ChatTemplate::named("vicuna"), InputError, "unknown template 'vicuna'");
}

TEST(ChatTemplateParity, ModelFolderPicksQwen3FromItsTokenizerConfig) {
  UPM_REFERENCE_FILE(folder, test::kQwen3Folder);
  EXPECT_EQ(ChatTemplate::for_model(folder).name(), "qwen3");
  EXPECT_EQ(ChatTemplate::for_model(folder, "plain").name(), "plain");
}

TEST(ChatTemplate, FolderWithoutTemplateIsQwen3ByModelTypeElsePlainChatml) {
  test::TempDir dir;
  EXPECT_EQ(ChatTemplate::for_model(dir.path()).name(), "plain");
  std::ofstream(dir.file("config.json")) << R"({"model_type": "qwen3"})";
  EXPECT_EQ(ChatTemplate::for_model(dir.path()).name(), "qwen3");
  std::ofstream(dir.file("config.json")) << R"({"model_type": "llama"})";
  auto text = ChatTemplate::for_model(dir.path()).render({{"user", "hi"}}, {true});
  EXPECT_EQ(text, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  std::ofstream(dir.file("tokenizer_config.json"))
      << R"({"chat_template": [{"name": "default", "template": "<|start_header_id|>"}], "bos_token": "<s>"})";
  EXPECT_EQ(ChatTemplate::for_model(dir.path()).render({{"user", " x "}}),
            "<s><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
}

TEST(ChatTemplate, RejectsEmptyChatsAndUnknownRoles) {
  auto qwen3 = ChatTemplate::named("qwen3");
  UPM_EXPECT_THROW_WITH(qwen3.render({}), InputError, "no messages");
  UPM_EXPECT_THROW_WITH(qwen3.render({{"tool", "x"}}), InputError, "messages[0].role: 'tool' is not one of");
}

}  // namespace
}  // namespace upm
