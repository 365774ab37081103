#include <gtest/gtest.h>

#include <map>

#include "data_test_util.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/data/split.h"
#include "upm/data/synth.h"
#include "upm/data/time_format.h"

namespace {

using namespace upm::data;
using upm::test::slurp;
using upm::test::TempDir;

SynthConfig small_world(int64_t seed) {
  SynthConfig c;
  c.users = 40;
  c.seed = seed;
  return c;
}

TEST(Synth, SameSeedGivesByteIdenticalFilesAndAnotherSeedDiffers) {
  TempDir a, b, c;
  write_synthetic_world(make_synthetic_world(small_world(7)), a.path());
  write_synthetic_world(make_synthetic_world(small_world(7)), b.path());
  write_synthetic_world(make_synthetic_world(small_world(8)), c.path());
  for (const char* name : {"/log.jsonl", "/truth.jsonl", "/items.jsonl"}) {
    std::string first = slurp(a.path() + name);
    ASSERT_FALSE(first.empty()) << name;
    EXPECT_EQ(first, slurp(b.path() + name)) << name;
    EXPECT_NE(first, slurp(c.path() + name)) << name;
  }
}

TEST(Synth, CategoryFirstItemsNameTheSameTopicsAndLeaveTheRestOfTheWorldAlone) {
  SynthConfig first = small_world(7);
  first.category_first = true;
  const SynthWorld plain = make_synthetic_world(small_world(7));
  const SynthWorld moved = make_synthetic_world(first);
  ASSERT_EQ(plain.items.size(), moved.items.size());
  for (size_t i = 0; i < plain.items.size(); ++i) {
    const std::string& a = plain.items[i].text;  // "Title | topics: phrase"
    const std::string& b = moved.items[i].text;  // "Category: topics | Title: phrase"
    const size_t bar = a.find(" | "), colon = a.find(": ");
    ASSERT_NE(bar, std::string::npos) << a;
    EXPECT_EQ(b, "Category: " + a.substr(bar + 3, colon - bar - 3) + " | " + a.substr(0, bar) + a.substr(colon)) << a;
    EXPECT_EQ(plain.items[i].topics, moved.items[i].topics);
  }
  EXPECT_EQ(plain.truth.size(), moved.truth.size());
  for (size_t u = 0; u < plain.truth.size(); ++u) EXPECT_EQ(plain.truth[u].profile, moved.truth[u].profile);
  for (size_t u = 0; u < plain.logs.size(); ++u) ASSERT_EQ(plain.logs[u].events.size(), moved.logs[u].events.size());
}

std::map<std::string, int> events_by_source(const SynthWorld& world) {
  std::map<std::string, int> counts;
  for (const auto& log : world.logs) {
    for (const auto& e : log.events) ++counts[e.source];
  }
  return counts;
}

TEST(Synth, DefaultEventMixDrawsTheWorldsOfEarlierVersions) {
  // Counts of the world made by the code before the mix could be set (its
  // files were byte-identical to this version's; checked when the mix came in).
  const std::map<std::string, int> before{
      {"reviews", 616}, {"assistant", 395}, {"store", 366}, {"forum", 273}, {"survey", 176}};
  EXPECT_EQ(events_by_source(make_synthetic_world(small_world(7))), before);
}

TEST(Synth, EventMixSetsTheShareOfEachKind) {
  SynthConfig only_chat = small_world(3);
  only_chat.mix = SynthEventMix{0.0, 0.0, 0.0, 1.0, 0.0};
  const auto chat = events_by_source(make_synthetic_world(only_chat));
  ASSERT_EQ(chat.size(), 1u);
  EXPECT_EQ(chat.begin()->first, "assistant");

  SynthConfig skewed = small_world(3);
  skewed.users = 200;
  skewed.mix = parse_event_mix("chat_pair=3,rating=1,click=0,item_pair=0,statement=0");
  const auto counts = events_by_source(make_synthetic_world(skewed));
  const double total = counts.at("assistant") + counts.at("reviews");
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts.at("assistant") / total, 0.75, 0.02) << total << " events";
}

TEST(Synth, EventMixTextKeepsUnnamedDefaultsAndRejectsBadWeights) {
  const SynthEventMix mix = parse_event_mix("chat_pair=0.45,rating=0.2");
  EXPECT_DOUBLE_EQ(mix.chat_pair, 0.45);
  EXPECT_DOUBLE_EQ(mix.rating, 0.2);
  EXPECT_DOUBLE_EQ(mix.click, SynthEventMix{}.click);
  EXPECT_DOUBLE_EQ(mix.statement, SynthEventMix{}.statement);
  for (const char* bad : {"chat=1", "chat_pair", "chat_pair=", "chat_pair=abc", "chat_pair=-1", "chat_pair=1x",
                          "chat_pair=nan", "chat_pair=0.2,,rating=1",
                          "rating=0,click=0,item_pair=0,chat_pair=0,statement=0"}) {
    EXPECT_THROW(parse_event_mix(bad), upm::InputError) << bad;
  }
  SynthConfig negative = small_world(1);
  negative.mix.click = -0.5;
  EXPECT_THROW(make_synthetic_world(negative), upm::InputError);
}

TEST(Synth, OutputIsAValidLogWithEveryKindAndTruthPerUser) {
  TempDir dir;
  write_synthetic_world(make_synthetic_world(small_world(1)), dir.path());
  ReadOptions strict;
  strict.strict = true;
  auto logs = read_user_logs(dir.file("log.jsonl"), strict);
  ASSERT_EQ(logs.size(), 40u);
  std::map<EventKind, int> kinds;
  for (const auto& log : logs) {
    EXPECT_GE(log.events.size(), 30u);
    EXPECT_LE(log.events.size(), 60u);
    for (const auto& e : log.events) ++kinds[e.kind];
  }
  EXPECT_EQ(kinds.size(), 4u);
  auto truth = upm::read_jsonl_file(dir.file("truth.jsonl"));
  ASSERT_EQ(truth.size(), 40u);
  EXPECT_EQ(truth[0]["user_id"], logs[0].user_id);
  EXPECT_EQ(truth[0]["likes"].size(), 2u);
  EXPECT_EQ(truth[0]["dislikes"].size(), 2u);
}

// What a predictor that knows the profile would do: score each option by
// the liked / disliked topics it names and the preferred answer style.
double truth_score(const SynthTruth& truth, const std::string& option) {
  double score = 0;
  for (const auto& t : truth.likes) score += option.find(t) != std::string::npos;
  for (const auto& t : truth.dislikes) score -= option.find(t) != std::string::npos;
  if (truth.tone == "formal" && option.rfind("Certainly.", 0) == 0) score += 0.5;
  if (truth.tone == "casual" && option.rfind("Sure thing!", 0) == 0) score += 0.5;
  double length = static_cast<double>(option.size()) / 1000.0;
  score += truth.verbosity == "detailed" ? length : -length;
  return score;
}

double accuracy(const std::vector<BenchmarkTask>& tasks, const std::map<std::string, SynthTruth>& truth_of) {
  int right = 0;
  for (const auto& t : tasks) {
    const SynthTruth& truth = truth_of.at(t.user_id);
    int pick = truth_score(truth, t.options[1]) > truth_score(truth, t.options[0]) ? 1 : 0;
    right += pick == t.label;
  }
  return static_cast<double>(right) / static_cast<double>(tasks.size());
}

TEST(Synth, KnowingTheTrueProfileBeatsChanceOnHeldOutTasks) {
  SynthWorld world = make_synthetic_world(small_world(3));
  SplitResult split = split_logs(world.logs, SplitConfig{});
  ASSERT_GT(split.test.size(), 150u);
  std::map<std::string, SynthTruth> truth_of, wrong_truth_of;
  for (std::size_t i = 0; i < world.truth.size(); ++i) {
    truth_of[world.truth[i].user_id] = world.truth[i];
    // Control: the profile of another user.
    wrong_truth_of[world.truth[i].user_id] = world.truth[(i + 1) % world.truth.size()];
  }
  double right_profile = accuracy(split.test, truth_of);
  double wrong_profile = accuracy(split.test, wrong_truth_of);
  std::printf("held-out accuracy: true profile %.3f, another user's profile %.3f (%zu tasks)\n", right_profile,
              wrong_profile, split.test.size());
  EXPECT_GT(right_profile, 0.75);
  EXPECT_LT(wrong_profile, 0.6);
}

TEST(Split, LabelsAreBalancedAndTasksComeFromHeldOutEvents) {
  SynthWorld world = make_synthetic_world(small_world(5));
  SplitConfig config;
  config.seed = 11;
  SplitResult split = split_logs(world.logs, config);
  for (const auto* tasks : {&split.val, &split.test}) {
    ASSERT_FALSE(tasks->empty());
    std::size_t label1 = 0;
    for (const auto& t : *tasks) label1 += t.label == 1;
    double ratio = static_cast<double>(label1) / static_cast<double>(tasks->size());
    EXPECT_GE(ratio, 0.45);
    EXPECT_LE(ratio, 0.55);
  }
  // Every test task's events are in the user's test events, none in history.
  std::map<std::string, std::set<std::string>> test_ids, history_ids;
  for (const auto& log : split.test_events)
    for (const auto& e : log.events) test_ids[log.user_id].insert(e.id);
  for (const auto& log : split.history)
    for (const auto& e : log.events) history_ids[log.user_id].insert(e.id);
  for (const auto& t : split.test) {
    for (const auto& id : t.extra["event_ids"]) {
      EXPECT_TRUE(test_ids[t.user_id].count(id.get<std::string>())) << t.task_id;
      EXPECT_FALSE(history_ids[t.user_id].count(id.get<std::string>())) << t.task_id;
    }
  }
  // History precedes validation precedes test, for every user.
  for (std::size_t u = 0; u < split.history.size(); ++u) {
    ASSERT_FALSE(split.history[u].events.empty());
    if (!split.val_events[u].events.empty() && !split.test_events[u].events.empty()) {
      EXPECT_LE(split.history[u].events.back().ts, split.val_events[u].events.front().ts);
      EXPECT_LE(split.val_events[u].events.back().ts, split.test_events[u].events.front().ts);
    }
  }
}

UserLog user(const std::string& id, std::vector<Event> events) {
  UserLog log;
  log.user_id = id;
  log.events = std::move(events);
  return log;
}

Event rating(const std::string& id, const std::string& item, double value) {
  Event e;
  e.id = id, e.kind = EventKind::rating, e.item = item, e.value = value;
  return e;
}

Event click(const std::string& id, const std::string& item, const std::string& category) {
  Event e;
  e.id = id, e.kind = EventKind::click, e.item = item, e.category = category;
  return e;
}

TEST(Split, RatingsBecomeLikedVersusDislikedPairs) {
  SplitConfig config;
  config.val_fraction = 0;
  config.test_fraction = 0.5;
  // Test part = the last 4 events: values 5, 1, 4, 4 -> pairs (5 vs 1) and
  // (4 vs 4) which differs by less than a point, so only one task.
  auto split = split_logs({user("u", {rating("a", "A", 3), rating("b", "B", 3), rating("c", "C", 3),
                                      rating("d", "D", 3), rating("e", "E", 5), rating("f", "F", 1),
                                      rating("g", "G", 4), rating("h", "H", 4)})},
                          config);
  ASSERT_EQ(split.test.size(), 1u);
  const auto& t = split.test[0];
  EXPECT_EQ(t.options[t.label], "E");
  EXPECT_EQ(t.options[1 - t.label], "F");
  EXPECT_EQ(t.extra["event_ids"], (nlohmann::json{"e", "f"}));
  EXPECT_EQ(t.task_id, "u-test-1");
}

TEST(Split, ClickNegativesComeFromAnotherUserInAnotherCategory) {
  SplitConfig config;
  config.val_fraction = 0;
  config.test_fraction = 0.5;
  std::vector<UserLog> logs{
      user("games-fan", {click("1", "chess", "games"), click("2", "go", "games")}),
      user("other-games", {click("1", "tetris", "games"), click("2", "doom", "games")}),
      user("libs", {click("1", "libfoo", "libs"), click("2", "libbar", "libs")}),
  };
  for (int64_t seed = 0; seed < 5; ++seed) {
    config.seed = seed;
    auto split = split_logs(logs, config);
    ASSERT_EQ(split.test.size(), 3u);
    for (const auto& t : split.test) {
      const std::string negative = t.options[1 - t.label];
      if (t.user_id == "libs") {
        EXPECT_TRUE(negative == "chess" || negative == "go" || negative == "tetris" || negative == "doom");
      } else {
        EXPECT_TRUE(negative == "libfoo" || negative == "libbar") << t.user_id << ": " << negative;
      }
    }
  }
}

TEST(Split, UserLevelSplitAndFilesOnDisk) {
  SynthWorld world = make_synthetic_world(small_world(2));
  SplitConfig config;
  SplitResult split = split_logs(world.logs, config);
  EXPECT_EQ(split.eval_users.size(), 8u);  // 20% of 40
  EXPECT_EQ(split.train_users.size(), 32u);
  std::set<std::string> all(split.train_users.begin(), split.train_users.end());
  for (const auto& id : split.eval_users) EXPECT_TRUE(all.insert(id).second) << id << " in both";
  EXPECT_EQ(all.size(), 40u);

  TempDir dir;
  write_split(split, config, dir.path());
  ReadOptions strict;
  strict.strict = true;
  EXPECT_EQ(read_user_logs(dir.file("history.jsonl"), strict).size(), 40u);
  EXPECT_EQ(read_benchmark(dir.file("test.jsonl"), strict).size(), split.test.size());
  EXPECT_EQ(read_benchmark(dir.file("val.jsonl"), strict).size(), split.val.size());
  EXPECT_EQ(read_user_logs(dir.file("test_events.jsonl"), strict).size(), 40u);
  const std::string eval_ids = slurp(dir.file("users_eval.txt"));
  EXPECT_EQ(std::count(eval_ids.begin(), eval_ids.end(), '\n'), 8);
  auto summary = nlohmann::json::parse(slurp(dir.file("split.json")));
  EXPECT_EQ(summary["test"]["tasks"], split.test.size());
  // Deterministic for a seed.
  SplitResult again = split_logs(world.logs, config);
  ASSERT_EQ(again.test.size(), split.test.size());
  for (std::size_t i = 0; i < split.test.size(); ++i) EXPECT_EQ(to_json(again.test[i]), to_json(split.test[i]));
}

TEST(TimeFormat, UnixSecondsToIso8601) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(881250949), "1997-12-04T15:55:49Z");  // first line of ml-100k u.data
  EXPECT_EQ(iso8601_utc(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(iso8601_utc(1704067199), "2023-12-31T23:59:59Z");
}

}  // namespace
