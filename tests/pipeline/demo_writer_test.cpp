// The bundled writer (data/demo-writer, tools/demo/make_writer.sh) reads raw
// histories. On synthetic users it never saw (seed 11; it was trained on seed
// 100, the demo evaluates seed 7), the topics its profiles say a user likes
// are mostly among the user's true likes, where a writer that ignores the
// history names one only 2 times in 10 (2 liked topics of 10). A 1M writer
// trained on mixed judge and writer rows sits at that chance level; this test
// fails if the shipped writer is replaced by one that does not read. The answer tone it names is mostly
// the user's and not one word for everybody (the phase-1 writer
// said "formal" for every user; the recipe's tone curriculum fixed that).
#include <cstdio>
#include <set>

#include "pipeline_test_util.h"
#include "upm/data/split.h"
#include "upm/data/synth.h"
#include "upm/pipeline/teach/profile_facts.h"
#include "upm/core/source_dir.h"

namespace {

// Topics a profile names in its "Likes ..." sentence (the teacher's sentence
// forms, which the writer learned to write).
std::vector<std::string> liked_topics(const std::string& profile) { return upm::parse_profile_facts(profile).likes; }

TEST(DemoWriter, LikedTopicsAndToneFromUnseenHistoriesAreMostlyTrue) {
  EXPECT_EQ(liked_topics("Likes horror and science fiction. Dislikes comedy."),
            (std::vector<std::string>{"horror", "science fiction"}));
  EXPECT_TRUE(liked_topics("Dislikes comedy. Prefers a formal tone.").empty());

  upm::test::TempDir dir;
  upm::data::SynthConfig synth;
  synth.users = 48;
  synth.seed = 11;
  synth.min_events = 12;
  synth.max_events = 20;
  synth.category_first = true;  // the demo's worlds
  const auto world = upm::data::make_synthetic_world(synth);
  upm::data::SplitConfig split;  // the demo's split: profiles read the first half of each log
  split.val_fraction = 0.25;
  split.test_fraction = 0.25;
  upm::data::write_split(upm::data::split_logs(world.logs, split), split, dir.path());

  const std::string source = upm::source_dir();
  const auto run = upm::test::run_tool(
      "upm-profile", "--model " + source + "/data/demo-writer --input " + dir.file("history.jsonl") + " --output " +
                         dir.file("profiles.jsonl") + " --config " + source + "/configs/demo/profile.json");
  ASSERT_EQ(run.code, 0) << run.output;

  std::map<std::string, upm::data::SynthTruth> truth;
  for (const auto& t : world.truth) truth[t.user_id] = t;
  int named = 0, true_ones = 0, users = 0, tones_named = 0, tones_true = 0;
  std::set<std::string> tone_words;
  for (const auto& row : upm::test::read_json_lines(dir.file("profiles.jsonl"))) {
    ++users;
    const auto& user = truth.at(row.at("user_id").get<std::string>());
    const auto& likes = user.likes;
    const std::string profile = row.at("profile").get<std::string>();
    for (const auto& topic : liked_topics(profile)) {
      ++named;
      true_ones += std::find(likes.begin(), likes.end(), topic) != likes.end();
    }
    const std::string tone = upm::parse_profile_facts(profile).tone;
    if (!tone.empty()) {
      ++tones_named;
      tones_true += tone == user.tone;
      tone_words.insert(tone);
    }
  }
  std::printf("tones named: %d, true: %d, distinct words: %zu\n", tones_named, tones_true, tone_words.size());
  std::printf("liked topics named: %d, true: %d (%.2f)\n", named, true_ones, double(true_ones) / std::max(named, 1));
  EXPECT_EQ(users, 48);
  ASSERT_GE(named, 30) << "the writer named too few liked topics to judge";
  // Measured: 0.52 here (the phase-1 writer 0.57; data/demo-model, which does
  // not read: 0.17); the phase-1 writer 0.54 on
  // the 108 held-out users of a smaller seed-7 demo world (the rule
  // teacher it imitates: 0.63); chance is 0.2.
  EXPECT_GT(double(true_ones) / named, 0.4) << true_ones << " of " << named;
  // Measured: 34 of 48 users, 29 true (0.85), both words (the phase-1 writer:
  // "formal" for all 34, 0.59).
  ASSERT_GE(tones_named, 12) << "the writer named too few tones to judge";
  EXPECT_EQ(tone_words.size(), 2u) << "one tone word for every user";
  EXPECT_GT(double(tones_true) / tones_named, 0.7) << tones_true << " of " << tones_named;
}

}  // namespace
