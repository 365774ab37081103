#include <gtest/gtest.h>

#include <sstream>

#include "data_test_util.h"
#include "upm/data/event_format.h"
#include "upm/data/prompt_builder.h"

namespace {

using namespace upm::data;
using upm::test::TempDir;
using upm::test::write_text;

// Unit-test token counter: whitespace-separated words (production passes the
// model tokenizer's count_tokens instead).
std::size_t count_words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string word;
  std::size_t n = 0;
  while (in >> word) ++n;
  return n;
}

Event text_event(int i) {
  Event e;
  e.id = "e" + std::to_string(i);
  e.kind = EventKind::text;
  e.source = "forum";
  e.ts = "2024-01-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
  e.text = "note number " + std::to_string(i);
  return e;
}

// A templates folder holding one custom file; the other templates come from configs/prompts.
PromptConfig config_with(const TempDir& dir, const std::string& which, const std::string& text) {
  PromptConfig config;
  std::string path = write_text(dir, which + ".txt", text);
  if (which == "profile") config.profile_template = path;
  if (which == "predict") config.predict_template = path;
  return config;
}

TEST(PromptTemplate, RendersPlaceholdersWithSpacesAndKeepsTheRest) {
  auto t = PromptTemplate::parse("Hi {{ name }}, {{x}}{{x}}!\n", "t.txt");
  EXPECT_EQ(t.render({{"name", "Ann"}, {"x", "ab"}}), "Hi Ann, abab!");
  EXPECT_EQ(t.placeholders(), (std::set<std::string>{"name", "x"}));
}

TEST(PromptTemplate, ErrorsNameTheTemplateFile) {
  UPM_EXPECT_THROW_WITH(PromptTemplate::parse("a\nb {{oops", "p.txt"), upm::InputError,
                        "p.txt:2: unterminated placeholder \"{{\"");
  UPM_EXPECT_THROW_WITH(PromptTemplate::parse("{{a-b}}", "p.txt"), upm::InputError,
                        "p.txt:1: bad placeholder {{a-b}}");
  auto t = PromptTemplate::parse("x\n{{who}} {{events}}", "p.txt");
  UPM_EXPECT_THROW_WITH(t.check({"events"}, {"events"}), upm::InputError,
                        "p.txt:2: unknown placeholder {{who}} (known: events)");
  UPM_EXPECT_THROW_WITH(t.check({"who", "events", "profile"}, {"profile"}), upm::InputError,
                        "p.txt: missing placeholder {{profile}}");
  UPM_EXPECT_THROW_WITH(t.render({{"events", ""}}), upm::InputError, "p.txt:2: no value for placeholder {{who}}");
}

TEST(PromptBuilder, BundledTemplatesLoadAndBuilderRejectsBadOnes) {
  EXPECT_NO_THROW(PromptBuilder(PromptConfig{}, count_words));
  TempDir dir;
  UPM_EXPECT_THROW_WITH(PromptBuilder(config_with(dir, "profile", "no events here"), count_words),
                        upm::InputError, "profile.txt: missing placeholder {{events}}");
  UPM_EXPECT_THROW_WITH(PromptBuilder(config_with(dir, "predict", "{{profile}} {{context}} {{options}} {{mood}}"),
                                      count_words),
                        upm::InputError, "predict.txt:1: unknown placeholder {{mood}}");
}

TEST(PromptBuilder, BlindTemplatesLeaveTheOptionsOut) {
  PromptConfig blind;
  blind.predict_template = "predict_blind.txt";
  blind.predict_history_template = "predict_history_blind.txt";
  blind.predict_none_template = "predict_none_blind.txt";
  PromptBuilder builder(blind, count_words);
  EXPECT_FALSE(builder.lists_options());
  EXPECT_TRUE(PromptBuilder(PromptConfig{}, count_words).lists_options());
  BenchmarkTask task;
  task.user_id = "u1", task.task_id = "t1", task.context = "Which item did this user pick?";
  task.options = {"Scream (1996) | horror", "Casino (1995) | crime"};
  for (const std::string& text : {builder.predict(task, "Likes horror.").text, builder.predict_none(task).text,
                                  builder.predict_history(task, {}).text}) {
    EXPECT_EQ(text.find("Scream"), std::string::npos) << text;
    EXPECT_EQ(text.find("Item A"), std::string::npos) << text;
    EXPECT_NE(text.find("Which item did this user pick?"), std::string::npos) << text;
    EXPECT_EQ(text.substr(text.size() - 7), "Answer:") << text;
  }
  EXPECT_NE(builder.predict(task, "Likes horror.").text.find("Likes horror."), std::string::npos);
}

TEST(PromptConfig, BlindPresetSetsThePredictTemplatesAndKeysStillOverride) {
  const auto blind = upm::config_from_json<PromptConfig>(nlohmann::json{{"preset", "blind"}}, "p.json");
  EXPECT_EQ(blind.predict_template, "predict_blind.txt");
  EXPECT_EQ(blind.predict_history_template, "predict_history_blind.txt");
  EXPECT_EQ(blind.predict_none_template, "predict_none_blind.txt");
  EXPECT_EQ(blind.profile_template, PromptConfig{}.profile_template);
  EXPECT_FALSE(PromptBuilder(blind, count_words).lists_options());
  const auto mixed = upm::config_from_json<PromptConfig>(
      nlohmann::json{{"predict_none_template", "predict_none.txt"}, {"preset", "blind"}}, "p.json");
  EXPECT_EQ(mixed.predict_template, "predict_blind.txt");
  EXPECT_EQ(mixed.predict_none_template, "predict_none.txt");  // the explicit key wins, whatever its place
  EXPECT_THROW(upm::config_from_json<PromptConfig>(nlohmann::json{{"preset", "blnd"}}, "p.json"), upm::InputError);
}

TEST(PromptBuilder, EventLinesCoverEveryKind) {
  Event r;
  r.kind = EventKind::rating, r.ts = "2024-03-01T12:00:00Z", r.source = "movies";
  r.item = "Heat (1995)", r.value = 5;
  EXPECT_EQ(format_event(r, 100), "- [2024-03-01 | movies] rated \"Heat (1995)\" 5 on a 1-5 scale");
  Event p;
  p.kind = EventKind::pairwise, p.source = "chat", p.context = "Explain RL", p.chosen = "Short.",
  p.rejected = "Long\nanswer";
  EXPECT_EQ(format_event(p, 100), "- [chat] asked \"Explain RL\": preferred \"Short.\" over \"Long answer\"");
  Event c;
  c.kind = EventKind::click, c.item = "Alien";
  EXPECT_EQ(format_event(c, 100), "- clicked \"Alien\"");
  Event t;
  t.kind = EventKind::text, t.ts = "2024-03-02", t.text = "caf\xc3\xa9 au lait";
  EXPECT_EQ(format_event(t, 4), "- [2024-03-02] wrote \"caf...\"");  // é is not split
}

TEST(PromptBuilder, ProfileKeepsAllEventsWhenTheyFit) {
  PromptBuilder builder(PromptConfig{}, count_words);
  std::vector<Event> events{text_event(2), text_event(1), text_event(3)};
  auto prompt = builder.profile("u1", events);
  EXPECT_EQ(prompt.events_dropped, 0u);
  EXPECT_EQ(prompt.events_kept, 3u);
  // chronological: e1 before e2 before e3
  auto p1 = prompt.text.find("note number 1"), p2 = prompt.text.find("note number 2"),
       p3 = prompt.text.find("note number 3");
  ASSERT_NE(p3, std::string::npos);
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_NE(prompt.text.find("0 older actions were left out"), std::string::npos);
  EXPECT_EQ(prompt.tokens, count_words(prompt.text));
}

TEST(PromptBuilder, BudgetDropsTheOldestEventsFirstAndCountsThem) {
  TempDir dir;
  PromptConfig config = config_with(dir, "profile", "Events ({{num_dropped}} dropped):\n{{events}}\nEnd.\n");
  // Fixed part: "Events", "(N", "dropped):", "End." = 4 words; each event
  // line "- [2024-01-0i | forum] wrote "note number i"" = 8 words.
  config.max_prompt_tokens = 4 + 3 * 8;
  PromptBuilder builder(config, count_words);
  std::vector<Event> events;
  for (int i = 1; i <= 10; ++i) events.push_back(text_event(i));
  auto prompt = builder.profile("u1", events);
  EXPECT_EQ(prompt.events_total, 10u);
  EXPECT_EQ(prompt.events_kept, 3u);
  EXPECT_EQ(prompt.events_dropped, 7u);
  EXPECT_TRUE(prompt.fits);
  EXPECT_EQ(prompt.tokens, 28u);
  EXPECT_EQ(prompt.text,
            "Events (7 dropped):\n"
            "- [2024-01-08 | forum] wrote \"note number 8\"\n"
            "- [2024-01-09 | forum] wrote \"note number 9\"\n"
            "- [2024-01-10 | forum] wrote \"note number 10\"\nEnd.");
  // One word less: one more old event goes.
  config.max_prompt_tokens -= 1;
  auto smaller = PromptBuilder(config, count_words).profile("u1", events);
  EXPECT_EQ(smaller.events_dropped, 8u);
  EXPECT_EQ(smaller.tokens, 20u);
  // Below the fixed part nothing fits and the prompt says so.
  config.max_prompt_tokens = 2;
  auto none = PromptBuilder(config, count_words).profile("u1", events);
  EXPECT_EQ(none.events_kept, 0u);
  EXPECT_FALSE(none.fits);
}

TEST(PromptBuilder, UpdateShowsThePreviousProfileOrNotProvided) {
  PromptBuilder builder(PromptConfig{}, count_words);
  auto first = builder.update("u1", "", {text_event(1)});
  EXPECT_NE(first.text.find("Current profile:\nNot Provided."), std::string::npos);
  auto next = builder.update("u1", "Likes tea.", {text_event(1), text_event(2)});
  EXPECT_NE(next.text.find("Current profile:\nLikes tea."), std::string::npos);
  EXPECT_EQ(next.events_kept, 2u);
}

TEST(PromptBuilder, PredictLabelsOptionsAsItems) {
  PromptBuilder builder(PromptConfig{}, count_words);
  BenchmarkTask task;
  task.user_id = "u1", task.context = "Which movie will the user rate higher?";
  task.options = {"Scream (1996) | Horror", "Casino (1995) | Crime"};
  auto with_profile = builder.predict(task, "Dislikes horror.");
  EXPECT_EQ(with_profile.text,
            "Here is a profile of a user's preferences:\nDislikes horror.\n\n"
            "Task: Which movie will the user rate higher?\n\n"
            "Item A: Scream (1996) | Horror\nItem B: Casino (1995) | Crime\n\n"
            "Judging only from the profile, which option fits this user? Answer with Item A or Item B.\nAnswer:");
  auto none = builder.predict_none(task);
  EXPECT_EQ(none.text.find("profile"), std::string::npos);
  task.options.push_back("Up (2009) | Animation");
  EXPECT_NE(builder.predict_none(task).text.find("Answer with Item A, Item B or Item C."), std::string::npos);
  EXPECT_EQ(option_label(25), "Item Z");
  EXPECT_THROW(option_label(26), upm::InputError);
}

TEST(PromptBuilder, PredictHistoryBaselineKeepsTheNewestWithinItsBudget) {
  PromptConfig config;
  BenchmarkTask task;
  task.user_id = "u1", task.context = "Pick one", task.options = {"a", "b"};
  std::vector<Event> history;
  for (int i = 1; i <= 30; ++i) history.push_back(text_event(i));
  PromptBuilder full(config, count_words);
  auto all = full.predict_history(task, history);
  EXPECT_EQ(all.events_dropped, 0u);
  config.max_predict_tokens = static_cast<int64_t>(all.tokens) - 8 * 5;  // 8 words an event: room for 25
  auto cut = PromptBuilder(config, count_words).predict_history(task, history);
  EXPECT_EQ(cut.events_dropped, 5u);
  EXPECT_EQ(cut.text.find("note number 5\""), std::string::npos);
  EXPECT_NE(cut.text.find("note number 6\""), std::string::npos);
  EXPECT_LE(cut.tokens, static_cast<std::size_t>(config.max_predict_tokens));
}

TEST(PromptConfig, DescribeLoadsAndRejectsUnknownKeys) {
  auto config = upm::config_from_json<PromptConfig>(nlohmann::json{{"max_prompt_tokens", 512}}, "c.json",
                                                    {"empty_profile=None yet."});
  EXPECT_EQ(config.max_prompt_tokens, 512);
  EXPECT_EQ(config.empty_profile, "None yet.");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<PromptConfig>(nlohmann::json{{"max_prompt_tokens", 0}}, "c.json"),
                        upm::InputError, "max_prompt_tokens");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<PromptConfig>(nlohmann::json{{"budget", 1}}, "c.json"),
                        upm::InputError, "budget");
}

}  // namespace
