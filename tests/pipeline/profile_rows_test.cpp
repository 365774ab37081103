#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "upm/data/prompt_builder.h"
#include "upm/text/sentences.h"
#include "upm/pipeline/teach/profile_rows.h"
#include "upm/pipeline/teach/rule_based_teacher.h"
#include "upm/core/error.h"

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
  auto words = split_sentences(out);
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
  const auto all = split_sentences(kProfile);
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

data::Event rating(const std::string& id, const std::string& item, double value) {
  data::Event e;
  e.id = id;
  e.kind = data::EventKind::rating;
  e.source = "reviews";
  e.item = item;
  e.value = value;
  return e;
}

TEST(ProfileRows, RuleTargetsSayWhatEachUsersOwnHistorySays) {
  data::UserLog fan{"fan",
                    {rating("e1", "Category: horror | A", 5), rating("e2", "Category: horror | B", 5),
                     rating("e3", "Category: cooking | C", 1)}};
  data::UserLog other{"other", {rating("e1", "Category: comedy | A", 5), rating("e2", "Category: comedy | B", 4)}};
  // One candidate: the teacher's full reading (candidate 0) of each history.
  auto targets = rule_profiles({fan, other}, RuleTeacherConfig{}, 1, 0);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets["fan"], "Likes horror. Dislikes cooking.");
  EXPECT_EQ(targets["other"], "Likes comedy.");
}

TEST(ProfileRows, RuleTargetsDrawOneOfTheTeachersCandidatesPerUser) {
  RuleTeacherConfig rule;
  rule.subsample = 0.5;
  std::vector<data::UserLog> logs;
  for (int u = 0; u < 24; ++u) {
    data::UserLog log{"u" + std::to_string(u), {}};
    for (int e = 0; e < 8; ++e) {
      log.events.push_back(
          rating("e" + std::to_string(e), e % 2 ? "Category: horror | A" : "Category: comedy | B", e % 3 ? 5.0 : 1.0));
    }
    logs.push_back(log);
  }
  const auto targets = rule_profiles(logs, rule, 4, 3);
  ASSERT_EQ(targets.size(), logs.size());
  RuleBasedTeacher teacher(rule);
  std::set<int64_t> drawn;
  for (const auto& log : logs) {
    TeacherRequest request{log.user_id, log.events, "", "", 4, 3};
    int64_t match = -1;
    for (int64_t k = 0; k < 4 && match < 0; ++k) {
      if (teacher_output_from_text(teacher.candidate_text(request, k)).profile == targets.at(log.user_id)) match = k;
    }
    ASSERT_GE(match, 0) << log.user_id << ": " << targets.at(log.user_id);
    drawn.insert(match);
  }
  EXPECT_GE(drawn.size(), 2u);                          // not always the same candidate
  EXPECT_EQ(rule_profiles(logs, rule, 4, 3), targets);  // seeded
}

TEST(ProfileRows, ProfileTargetsWithoutAProfilesFileAreAnInputError) {
  const nlohmann::json job = {{"histories", "h.jsonl"}, {"tokenizer", "t"}, {"output", "o.jsonl"}};
  try {
    config_from_json<ProfileRowsJob>(job, "rows.json");
    FAIL() << "no profiles file was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("profiles"), std::string::npos) << e.what();
  }
  // The rule teacher needs none.
  nlohmann::json rule_job = job;
  rule_job["targets"] = "rule";
  EXPECT_NO_THROW(config_from_json<ProfileRowsJob>(rule_job, "rows.json"));
}

}  // namespace
}  // namespace upm
