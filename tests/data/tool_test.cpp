// upm-data as a user runs it: exit codes (0 ok, 2 bad input or usage) and
// the file:line: field: problem messages.
#include <filesystem>

#include <gtest/gtest.h>

#include "data_test_util.h"
#include "upm/core/jsonl.h"

namespace {

using upm::test::run_upm_data;
using upm::test::slurp;
using upm::test::TempDir;
using upm::test::write_text;

const char* kBadLog =
    "{\"user_id\":\"a\",\"events\":[{\"id\":\"e1\",\"kind\":\"text\",\"text\":\"hi\"}]}\n"
    "{\"user_id\":\"b\",\"events\":[{\"id\":\"e1\",\"kind\":\"rating\",\"item\":\"x\",\"value\":9}]}\n"
    "{\"user_id\":\"c\",\"events\":[{\"id\":\"e1\",\"kind\":\"click\",\"item\":\"y\"}]}\n";

TEST(UpmDataTool, StatsStrictFailsWithExit2OnTheFirstBadRecord) {
  TempDir dir;
  std::string log = write_text(dir, "log.jsonl", kBadLog);
  auto result = run_upm_data("stats --strict --input " + log);
  EXPECT_EQ(result.code, 2) << result.output;
  EXPECT_NE(result.output.find(log + ":2: events[0].value: value 9 is outside the scale [1, 5]"), std::string::npos)
      << result.output;
}

TEST(UpmDataTool, StatsSkipsCountsAndWritesRejects) {
  TempDir dir;
  std::string log = write_text(dir, "log.jsonl", kBadLog);
  auto result = run_upm_data("stats --input " + log + " --rejects " + dir.file("rejects.jsonl"));
  ASSERT_EQ(result.code, 0) << result.output;
  EXPECT_NE(result.output.find("rejected: " + log + ":2: events[0].value"), std::string::npos) << result.output;
  auto json_start = result.output.find("{\n");
  ASSERT_NE(json_start, std::string::npos) << result.output;
  auto summary = nlohmann::json::parse(result.output.substr(json_start, result.output.rfind('}') - json_start + 1));
  EXPECT_EQ(summary["users"], 2);
  EXPECT_EQ(summary["records"]["rejected"], 1);
  EXPECT_EQ(summary["by_kind"]["click"], 1);
  auto rejects = upm::read_jsonl_file(dir.file("rejects.jsonl"));
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0]["line"], 2);
}

TEST(UpmDataTool, SynthSplitAndBenchmarkStatsEndToEnd) {
  TempDir dir;
  auto synth = run_upm_data("synth --users 12 --seed 4 --output " + dir.file("syn"));
  ASSERT_EQ(synth.code, 0) << synth.output;
  auto split = run_upm_data("split --input " + dir.file("syn/log.jsonl") + " --output " + dir.file("split") +
                            " --seed 2 --val-fraction 0.1 --test-fraction 0.3");
  ASSERT_EQ(split.code, 0) << split.output;
  EXPECT_EQ(slurp(dir.file("split/rejects.jsonl")), "");
  auto stats = run_upm_data("stats --strict --benchmark " + dir.file("split/test.jsonl"));
  ASSERT_EQ(stats.code, 0) << stats.output;
  EXPECT_NE(stats.output.find("\"label_0_fraction\""), std::string::npos);
}

TEST(UpmDataTool, SynthEventMixDrawsOnlyTheWeightedKindsAndABadMixExits2) {
  TempDir dir;
  auto chat = run_upm_data("synth --users 5 --seed 1 --output " + dir.file("chat") +
                           " --event-mix rating=0,click=0,item_pair=0,statement=0");
  ASSERT_EQ(chat.code, 0) << chat.output;
  for (const auto& user : upm::read_jsonl_file(dir.file("chat/log.jsonl"))) {
    for (const auto& event : user["events"]) EXPECT_EQ(event["source"], "assistant") << event.dump();
  }
  auto bad = run_upm_data("synth --users 5 --output " + dir.file("bad") + " --event-mix chat_pair=-1");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--event-mix: chat_pair: weight \"-1\" is not a number >= 0"), std::string::npos)
      << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad/log.jsonl")));
}

TEST(UpmDataTool, KnobFlagsAreSetOfTheConfigKeys) {
  TempDir dir;
  write_text(dir, "synth.json", "{\"users\": 9, \"min_events\": 12}");
  auto flags = run_upm_data("synth --users 7 --seed 3 --min-events 12 --category-first --output " + dir.file("a"));
  ASSERT_EQ(flags.code, 0) << flags.output;
  auto set = run_upm_data("synth --config " + dir.file("synth.json") +
                          " --set users=7 --set seed=3 --set category_first=true --output " + dir.file("b"));
  ASSERT_EQ(set.code, 0) << set.output;
  EXPECT_EQ(slurp(dir.file("a/log.jsonl")), slurp(dir.file("b/log.jsonl")));
  EXPECT_EQ(slurp(dir.file("a/items.jsonl")), slurp(dir.file("b/items.jsonl")));
  auto bad = run_upm_data("split --input " + dir.file("a/log.jsonl") + " --output " + dir.file("s") +
                          " --val-fraction 0.95");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("val_fraction: must be <= 0.9"), std::string::npos) << bad.output;
}

TEST(UpmDataTool, SplitStrictAndBadUsageExit2) {
  TempDir dir;
  std::string log = write_text(dir, "log.jsonl", kBadLog);
  auto strict = run_upm_data("split --strict --input " + log + " --output " + dir.file("out"));
  EXPECT_EQ(strict.code, 2) << strict.output;
  auto skip = run_upm_data("split --input " + log + " --output " + dir.file("out2"));
  EXPECT_EQ(skip.code, 0) << skip.output;
  EXPECT_EQ(upm::read_jsonl_file(dir.file("out2/rejects.jsonl")).size(), 1u);
  EXPECT_EQ(run_upm_data("stats").code, 2);
  EXPECT_EQ(run_upm_data("stats --input " + dir.file("missing.jsonl")).code, 2);
}

}  // namespace

namespace {

TEST(UpmDataTool, SelectKeepsListedUsersLinesVerbatimAndExcludeKeepsTheRest) {
  TempDir dir;
  const std::string a = R"({"user_id": "a",  "x": 1})", b = R"({"user_id":"b","x":2})", c = R"({"x":3,"user_id":"c"})";
  std::string input = write_text(dir, "in.jsonl", a + "\n" + b + "\n\n" + c + "\n");
  std::string users = write_text(dir, "users.txt", "# train users\na\n c \n");
  auto kept = run_upm_data("select --input " + input + " --users " + users + " --output " + dir.file("out.jsonl"));
  ASSERT_EQ(kept.code, 0) << kept.output;
  EXPECT_EQ(slurp(dir.file("out.jsonl")), a + "\n" + c + "\n");
  auto rest = run_upm_data("select --exclude --input " + input + " --users " + users + " --output " + dir.file("rest.jsonl"));
  ASSERT_EQ(rest.code, 0) << rest.output;
  EXPECT_EQ(slurp(dir.file("rest.jsonl")), b + "\n");
  // A line without a string user_id is an input error naming file:line.
  std::string bad = write_text(dir, "bad.jsonl", a + "\n{\"user_id\": 7}\n");
  auto failed = run_upm_data("select --input " + bad + " --users " + users + " --output " + dir.file("x.jsonl"));
  EXPECT_EQ(failed.code, 2);
  EXPECT_NE(failed.output.find(bad + ":2: user_id"), std::string::npos) << failed.output;
}

// The newest positive events of a source with a query leave the history and
// become pairs; a low rating is not positive and stays; sources without a
// query stay too.
TEST(UpmDataTool, EmbedPairsHoldsOutTheNewestPositiveEventsPerUser) {
  TempDir dir;
  const std::string log = write_text(dir, "log.jsonl",
      R"({"user_id":"a","events":[)"
      R"({"id":"e1","kind":"rating","source":"reviews","item":"X","value":5,"ts":"2024-01-01T00:00:00Z"},)"
      R"({"id":"e2","kind":"click","source":"store","item":"Y","ts":"2024-01-02T00:00:00Z"},)"
      R"({"id":"e3","kind":"text","source":"forum","text":"hello","ts":"2024-01-03T00:00:00Z"},)"
      R"({"id":"e4","kind":"rating","source":"reviews","item":"Z","value":1,"ts":"2024-01-04T00:00:00Z"}]})" "\n"
      R"({"user_id":"b","events":[{"id":"e1","kind":"click","source":"store","item":"W","ts":"2024-01-01T00:00:00Z"}]})" "\n");
  auto ok = run_upm_data("embed-pairs --input " + log + " --output " + dir.file("out") +
                         " --per-user 1 --query reviews=Q1 --query 'store=Which titles?'");
  ASSERT_EQ(ok.code, 0) << ok.output;
  auto pairs = upm::read_jsonl_file(dir.file("out/pairs.jsonl"));
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0], (nlohmann::json{{"user_id", "a"}, {"query", "Which titles?"}, {"positive", "Y"}}));
  EXPECT_EQ(pairs[1], (nlohmann::json{{"user_id", "b"}, {"query", "Which titles?"}, {"positive", "W"}}));
  auto histories = upm::read_jsonl_file(dir.file("out/histories.jsonl"));
  ASSERT_EQ(histories.size(), 2u);
  std::vector<std::string> kept;
  for (const auto& e : histories[0].at("events")) kept.push_back(e.at("id"));
  EXPECT_EQ(kept, (std::vector<std::string>{"e1", "e3", "e4"}));
  EXPECT_TRUE(histories[1].at("events").empty());

  auto bad = run_upm_data("embed-pairs --input " + log + " --output " + dir.file("bad") + " --query reviews");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("--query: expected SOURCE=QUERY TEXT"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad/pairs.jsonl")));
}

}  // namespace
