// upm-infer chat's session (infer/chat_session.h) on the tiny model folder:
// a reply is what generate gives on the rendered chat, later turns read the
// earlier ones, and /reset starts over.
#include <sstream>

#include <gtest/gtest.h>

#include "pipeline_test_util.h"
#include "upm/core/error.h"
#include "upm/infer/chat_session.h"
#include "upm/infer/generator.h"
#include "upm/infer/text_generation.h"
#include "upm/text/utf8.h"

namespace upm {
namespace {

LanguageModel& chat_model() {
  PromptFormat format;
  format.kind = "chat";
  format.chat_template = "chatml";
  static LanguageModel lm = load_language_model(test::tiny_model_dir(), ModelRuntime{}, format);
  return lm;
}

GenerationConfig greedy(int64_t tokens) {
  GenerationConfig config;
  config.sampling.temperature = 0.0;
  config.max_new_tokens = tokens;
  return config;
}

TEST(ChatSession, AReplyIsTheGenerationOfTheRenderedChat) {
  LanguageModel& lm = chat_model();
  ChatSession chat(lm, greedy(8), "Be brief.");
  const std::string answer = chat.reply("Which film?");
  Generator generator(*lm.model, lm.tokenizer.get());
  const auto expected =
      generate_chat(generator, *lm.chat_template, {{{"system", "Be brief."}, {"user", "Which film?"}}}, greedy(8));
  // The session repairs a reply cut inside a UTF-8 character, as the jobs do.
  EXPECT_EQ(answer, text::utf8_lossy(expected.front().text));
  ASSERT_EQ(chat.messages().size(), 3u);
  EXPECT_EQ(chat.messages()[1].content, "Which film?");
  EXPECT_EQ(chat.messages()[2].role, "assistant");
  EXPECT_EQ(chat.messages()[2].content, answer);
}

TEST(ChatSession, TheNextTurnReadsTheConversationSoFar) {
  ChatSession chat(chat_model(), greedy(6));
  const std::string first = chat.reply("hello");
  const std::string prompt = chat.render_with("and then?");
  const size_t hello = prompt.find("hello");
  ASSERT_NE(hello, std::string::npos);
  EXPECT_NE(prompt.find(first, hello), std::string::npos);
  EXPECT_LT(prompt.find(first, hello), prompt.find("and then?"));
}

TEST(ChatSession, LinesAreTurnsAndResetStartsOver) {
  ChatJob job;
  job.model = test::tiny_model_dir();
  job.chat_template = "chatml";
  job.generation = greedy(5);
  std::istringstream in("hello\n\n/reset\nhello\n");
  std::ostringstream out;
  run_chat(job, in, out);
  // Two answers, each followed by an empty line; the same after the reset.
  const std::string text = out.str();
  ASSERT_EQ(text.size() % 2, 0u) << text;
  const std::string once = text.substr(0, text.size() / 2);
  EXPECT_EQ(text.substr(text.size() / 2), once);
  EXPECT_EQ(once.substr(once.size() - 2), "\n\n");

  job.turns = {"hello", "hello"};
  std::istringstream unused("ignored\n");
  std::ostringstream scripted;
  run_chat(job, unused, scripted);
  EXPECT_EQ(scripted.str().substr(0, once.size()), once);  // the first turn as before
}

TEST(ChatSession, AModelWithoutChatFormatIsRefused) {
  UPM_EXPECT_THROW_WITH(ChatSession(test::tiny_model(), greedy(4)), InputError, "chat template");
}

}  // namespace
}  // namespace upm
