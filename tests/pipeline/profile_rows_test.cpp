#include <algorithm>

#include <gtest/gtest.h>

#include "upm/data/prompt_builder.h"
#include "upm/pipeline/judge_data.h"
#include "upm/pipeline/profile_rows.h"

namespace upm {
namespace {

const std::string kProfile = "Likes comedy and history. Dislikes horror and romance. Prefers concise answers.";

TEST(ProfileRows, NoDegradationKeepsTheProfile) {
  EXPECT_EQ(degrade_profile(kProfile, "u1", ProfileRowsConfig{}), kProfile);
}

TEST(ProfileRows, SwappedWordsAreOtherVocabularyWordsInTheSamePlaces) {
  ProfileRowsConfig config;
  config.vocabulary = {"comedy", "history", "horror", "romance", "sports"};
  config.swap_word = 1.0;
  const std::string out = degrade_profile(kProfile, "u1", config);
  EXPECT_EQ(out.find("Likes "), 0u);
  // Every vocabulary word changed (swap probability 1); the frame is kept.
  EXPECT_NE(out.find(" and "), std::string::npos);
  EXPECT_NE(out.find("Prefers concise answers."), std::string::npos);
  auto words = profile_sentences(out);
  ASSERT_EQ(words.size(), 3u);
  EXPECT_NE(words[0], "Likes comedy and history.");
  EXPECT_NE(words[1], "Dislikes horror and romance.");
  // "historyX" is not a whole word and is never touched.
  EXPECT_EQ(degrade_profile("Likes historyX.", "u1", config), "Likes historyX.");
  // Seeded by user: same user, same result; the seed changes it.
  EXPECT_EQ(degrade_profile(kProfile, "u1", config), out);
}

TEST(ProfileRows, DroppingEverySentenceStillKeepsOne) {
  ProfileRowsConfig config;
  config.drop_sentence = 1.0;
  const std::string out = degrade_profile(kProfile, "u2", config);
  const auto all = profile_sentences(kProfile);
  EXPECT_NE(std::find(all.begin(), all.end(), out), all.end()) << out;
}

TEST(ProfileRows, RowIsTheProfilePromptAndAThinkThenProfileTarget) {
  data::PromptBuilder builder(data::PromptConfig{}, [](std::string_view text) { return text.size() / 4; });
  data::UserLog log;
  log.user_id = "u1";
  data::Event e;
  e.id = "e1";
  e.source = "forum";
  e.kind = data::EventKind::text;
  e.text = "I never watch horror.";
  log.events.push_back(e);
  data::UserLog unknown = log;
  unknown.user_id = "u9";  // no profile: no row
  auto rows = make_profile_rows({log, unknown}, {{"u1", kProfile}}, builder, ProfileRowsConfig{});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["prompt"], builder.profile(log).text);
  EXPECT_EQ(rows[0]["completion"], "<think>I look at the ratings, clicks, choices and posts.</think>" + kProfile);
}

}  // namespace
}  // namespace upm
