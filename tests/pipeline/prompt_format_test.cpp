#include <gtest/gtest.h>

#include "pipeline_test_util.h"
#include "upm/text/chat_template.h"
#include "upm/text/tokenizer.h"

namespace upm {
namespace {

std::vector<int64_t> widen(const std::vector<TokenId>& ids) { return {ids.begin(), ids.end()}; }

TEST(PromptFormat, RawIsBosThenText) {
  LanguageModel lm = load_language_model(test::tiny_model_dir(), ModelRuntime{});
  std::vector<int64_t> expected;
  if (auto bos = lm.tokenizer->special_tokens().bos) expected.push_back(*bos);
  for (auto id : widen(lm.tokenizer->encode("likes jazz", false))) expected.push_back(id);
  EXPECT_EQ(encode_prompt(lm, "likes jazz"), expected);
}

// A chat prompt is the text as one user turn of the named template, with the
// assistant's header (and, for Qwen3 without thinking, the empty think block).
TEST(PromptFormat, ChatWrapsTheTextInTheTemplate) {
  PromptFormat format;
  format.kind = "chat";
  format.chat_template = "qwen3";
  format.enable_thinking = false;
  LanguageModel lm = load_language_model(test::tiny_model_dir(), ModelRuntime{}, format);
  ChatOptions options;
  options.add_generation_prompt = true;
  options.enable_thinking = false;
  std::string rendered = ChatTemplate::named("qwen3").render({{"user", "likes jazz"}}, options);
  EXPECT_NE(rendered.find("<think>\n\n</think>"), std::string::npos);
  EXPECT_EQ(encode_prompt(lm, "likes jazz"), widen(lm.tokenizer->encode(rendered, false)));
  EXPECT_NE(encode_prompt(lm, "likes jazz"),
            encode_prompt(load_language_model(test::tiny_model_dir(), ModelRuntime{}), "likes jazz"));
}

TEST(PromptFormat, ConfigRejectsUnknownKindsAndTemplates) {
  EXPECT_THROW(config_from_json<PromptFormat>({{"kind", "instruct"}}, "job.json"), InputError);
  PromptFormat format;
  format.kind = "chat";
  format.chat_template = "vicuna";
  EXPECT_THROW(load_language_model(test::tiny_model_dir(), ModelRuntime{}, format), InputError);
}

}  // namespace
}  // namespace upm
