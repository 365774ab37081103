#include <gtest/gtest.h>

#include "data_test_util.h"
#include "upm/core/jsonl.h"
#include "upm/data/benchmark.h"
#include "upm/data/profile_record.h"
#include "upm/data/user_log.h"

namespace {

using namespace upm::data;
using upm::test::TempDir;
using upm::test::write_text;

// Every problem `read` reports for a file holding `lines`, with the file
// name replaced by "F" so that expectations read like the messages.
template <class Read>
std::vector<std::string> problems_of(Read read, const std::string& lines) {
  TempDir dir;
  std::string path = write_text(dir, "in.jsonl", lines);
  ReadReport report;
  read(path, ReadOptions{}, &report);
  std::vector<std::string> out;
  for (auto p : report.problems) out.push_back("F" + p.substr(path.size()));
  return out;
}

std::vector<std::string> log_problems(const std::string& lines) { return problems_of(read_user_logs, lines); }

using Lines = std::vector<std::string>;

TEST(UserLogSchema, AcceptsTheDesignExampleAndRoundTripsUnknownFields) {
  TempDir dir;
  std::string line =
      R"({"user_id":"u17","cohort":"beta","events":[)"
      R"({"id":"e1","ts":"2024-03-01T12:00:00Z","source":"movies","kind":"rating","item":"Heat (1995) | Action","value":5,"scale":[1,5],"mood":"happy"},)"
      R"({"id":"e2","source":"chat","kind":"pairwise","context":"Explain RL briefly","chosen":"RL is ...","rejected":"Reinforcement learning ..."},)"
      R"({"id":"e3","source":"forum","kind":"text","text":"I never watch horror."},)"
      R"j({"id":"e4","kind":"click","item":"Alien (1979)","category":"sci-fi"},)j"
      R"({"id":"e5","kind":"rating","item":"Up","value":4.5}]})";
  std::string path = write_text(dir, "log.jsonl", line + "\n");
  ReadReport report;
  auto logs = read_user_logs(path, {}, &report);
  ASSERT_EQ(report.problems, Lines{});
  ASSERT_EQ(logs.size(), 1u);
  const auto& events = logs[0].events;
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].kind, EventKind::rating);
  EXPECT_EQ(events[0].extra["mood"], "happy");
  EXPECT_EQ(events[1].chosen, "RL is ...");
  EXPECT_EQ(events[3].category, "sci-fi");
  EXPECT_FALSE(events[4].scale.has_value());
  EXPECT_DOUBLE_EQ(events[4].normalized_value(), 0.875);  // default scale [1, 5]
  EXPECT_EQ(logs[0].extra["cohort"], "beta");
  // Round trip: written back, the record parses to the same JSON value.
  EXPECT_EQ(to_json(logs[0]), nlohmann::json::parse(line));
  std::string out = dir.file("out.jsonl");
  write_user_logs(out, logs);
  EXPECT_EQ(nlohmann::json::parse(upm::test::slurp(out)), nlohmann::json::parse(line));
}

TEST(UserLogSchema, TopLevelProblems) {
  EXPECT_EQ(log_problems("{\"events\":[]}\n"), Lines{"F:1: user_id: required field is missing"});
  EXPECT_EQ(log_problems("{\"user_id\":7,\"events\":[]}\n"), Lines{"F:1: user_id: expected a string, got number"});
  EXPECT_EQ(log_problems("{\"user_id\":\" \",\"events\":[]}\n"), Lines{"F:1: user_id: must not be empty"});
  EXPECT_EQ(log_problems("{\"user_id\":\"u\"}\n"), Lines{"F:1: events: required field is missing"});
  EXPECT_EQ(log_problems("{\"user_id\":\"u\",\"events\":{}}\n"),
            Lines{"F:1: events: expected an array, got object"});
  EXPECT_EQ(log_problems("\n{\"user_id\":\"u\",\"events\":[]}\n{\"user_id\":\"u\",\"events\":[]}\n"),
            Lines{"F:3: user_id: duplicate user id \"u\" (first at line 2)"});
  EXPECT_EQ(log_problems("{\"user_id\":\"u\",\n"), Lines{"F:1: invalid JSON"});
  EXPECT_EQ(log_problems("[1]\n"), Lines{"F:1: expected a JSON object, got array"});
  EXPECT_EQ(log_problems("{\"user_id\":\"u\xff\",\"events\":[]}\n"),
            Lines{"F:1: invalid UTF-8 at byte 14 of the line (JSON text must be UTF-8)"});
}

std::vector<std::string> event_problems(const std::string& event_json) {
  return log_problems("{\"user_id\":\"u\",\"events\":[{\"id\":\"ok\",\"kind\":\"text\",\"text\":\"hi\"}," +
                      event_json + "]}\n");
}

TEST(UserLogSchema, EventProblemsNameTheFieldPath) {
  EXPECT_EQ(event_problems("3"), Lines{"F:1: events[1]: expected an object, got number"});
  EXPECT_EQ(event_problems(R"({"kind":"text","text":"x"})"), Lines{"F:1: events[1].id: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e"})"), Lines{"F:1: events[1].kind: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"like"})"),
            Lines{"F:1: events[1].kind: unknown kind \"like\" (expected rating, pairwise, click or text)"});
  EXPECT_EQ(event_problems(R"({"id":"ok","kind":"text","text":"x"})"),
            Lines{"F:1: events[1].id: duplicate event id \"ok\" (first at events[0])"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"text","text":"x","ts":"yesterday"})"),
            Lines{"F:1: events[1].ts: expected an ISO 8601 time (YYYY-MM-DD...), got \"yesterday\""});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"text","text":"x","source":1})"),
            Lines{"F:1: events[1].source: expected a string, got number"});
}

TEST(UserLogSchema, PerKindRequiredFields) {
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","value":3})"),
            Lines{"F:1: events[1].item: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","item":"x"})"),
            Lines{"F:1: events[1].value: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","item":"x","value":"5"})"),
            Lines{"F:1: events[1].value: expected a number, got \"5\""});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","item":"x","value":7})"),
            Lines{"F:1: events[1].value: value 7 is outside the scale [1, 5] (the default when \"scale\" is absent)"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","item":"x","value":0.5,"scale":[1,10]})"),
            Lines{"F:1: events[1].value: value 0.5 is outside the scale [1, 10]"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","item":"x","value":3,"scale":[5,1]})"),
            Lines{"F:1: events[1].scale: low must be below high, got [5,1]"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"rating","item":"x","value":3,"scale":[1]})"),
            Lines{"F:1: events[1].scale: expected [low, high] (two numbers), got [1]"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"pairwise","chosen":"a"})"),
            Lines{"F:1: events[1].rejected: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"pairwise","rejected":"a"})"),
            Lines{"F:1: events[1].chosen: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"pairwise","chosen":"a","rejected":"a"})"),
            Lines{"F:1: events[1].rejected: is identical to \"chosen\""});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"pairwise","chosen":"a","rejected":"b","context":[]})"),
            Lines{"F:1: events[1].context: expected a string, got array"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"click"})"), Lines{"F:1: events[1].item: required field is missing"});
  EXPECT_EQ(event_problems(R"({"id":"e","kind":"text","text":""})"), Lines{"F:1: events[1].text: must not be empty"});
}

TEST(UserLogSchema, EveryProblemOfARecordIsReported) {
  EXPECT_EQ(event_problems(R"({"kind":"rating","item":"x","value":9,"ts":"x"})"),
            (Lines{"F:1: events[1].id: required field is missing",
                   "F:1: events[1].ts: expected an ISO 8601 time (YYYY-MM-DD...), got \"x\"",
                   "F:1: events[1].value: value 9 is outside the scale [1, 5] (the default when \"scale\" is absent)"}));
}

TEST(UserLogSchema, ChronologicalSortsByTimestampOnlyWhenAllHaveOne) {
  Event a, b, c;
  a.id = "a", a.ts = "2024-05-01";
  b.id = "b", b.ts = "2024-01-01";
  c.id = "c", c.ts = "2024-03-01";
  auto sorted = chronological({a, b, c});
  EXPECT_EQ(sorted[0].id + sorted[1].id + sorted[2].id, "bca");
  c.ts.clear();
  auto kept = chronological({a, b, c});
  EXPECT_EQ(kept[0].id + kept[1].id + kept[2].id, "abc");
}

std::vector<std::string> task_problems(const std::string& lines) { return problems_of(read_benchmark, lines); }

TEST(BenchmarkSchema, ValidTaskRoundTrips) {
  TempDir dir;
  std::string line = R"({"user_id":"u17","task_id":"u17-t3","context":"Which?","options":["A","B"],"label":1,"source":"movies"})";
  auto tasks = read_benchmark(write_text(dir, "b.jsonl", line + "\n"));
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].label, 1);
  EXPECT_EQ(to_json(tasks[0]), nlohmann::json::parse(line));
}

TEST(BenchmarkSchema, Problems) {
  const std::string head = R"({"user_id":"u","task_id":"t",)";
  EXPECT_EQ(task_problems(head + R"("options":["a","b"],"label":2})" "\n"),
            Lines{"F:1: label: label 2 is out of range for 2 options (0..1)"});
  EXPECT_EQ(task_problems(head + R"("options":["a","b"],"label":-1})" "\n"),
            Lines{"F:1: label: label -1 is out of range for 2 options (0..1)"});
  EXPECT_EQ(task_problems(head + R"("options":["a","b"],"label":0.5})" "\n"),
            Lines{"F:1: label: expected an integer, got 0.5"});
  EXPECT_EQ(task_problems(head + R"("options":["a"],"label":0})" "\n"),
            Lines{"F:1: options: needs at least 2 options, got 1"});
  EXPECT_EQ(task_problems(head + R"("options":["a",2],"label":0})" "\n"),
            Lines{"F:1: options[1]: expected a string, got number"});
  EXPECT_EQ(task_problems(head + R"("label":0})" "\n"), Lines{"F:1: options: required field is missing"});
  EXPECT_EQ(task_problems(R"({"user_id":"u","options":["a","b"],"label":0})" "\n"),
            Lines{"F:1: task_id: required field is missing"});
  EXPECT_EQ(task_problems(head + R"("options":["a","b"],"label":0})" "\n" + head +
                          R"("options":["a","b"],"label":1})" "\n"),
            Lines{"F:2: task_id: duplicate task id \"t\" (first at line 1)"});
}

TEST(ProfileSchema, ValidAndInvalidRecords) {
  TempDir dir;
  std::string path = write_text(dir, "p.jsonl",
                                R"({"user_id":"u","profile":"Likes sci-fi.","version":1,"events_seen":12,"model":"m","created_at":"2024-01-01T00:00:00Z"})" "\n"
                                R"({"user_id":"u","profile":"x","version":1})" "\n"
                                R"({"user_id":"v","profile":"x","events_seen":-3})" "\n"
                                R"({"user_id":"w"})" "\n");
  ReadReport report;
  auto profiles = read_profiles(path, {}, &report);
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0].events_seen, 12);
  EXPECT_EQ(report.problems,
            (Lines{path + ":2: version: duplicate profile of user \"u\" version 1 (first at line 1)",
                   path + ":3: events_seen: must be >= 0, got -3", path + ":4: profile: required field is missing"}));
}

TEST(RecordReader, StrictModeThrowsOnTheFirstBadRecord) {
  TempDir dir;
  std::string path = write_text(dir, "log.jsonl",
                                "{\"user_id\":\"a\",\"events\":[]}\n{\"user_id\":\"b\",\"events\":[{\"id\":\"e\",\"kind\":\"text\"}]}\n"
                                "{\"user_id\":3}\n");
  ReadOptions strict;
  strict.strict = true;
  UPM_EXPECT_THROW_WITH(read_user_logs(path, strict), upm::InputError,
                        path + ":2: events[0].text: required field is missing");
}

TEST(RecordReader, SkipModeCountsAndWritesEveryRejectWithItsRawLine) {
  TempDir dir;
  const std::string bad2 = "{\"user_id\":\"b\",\"events\":[{\"id\":\"e\",\"kind\":\"text\"}]}";
  const std::string bad3 = "not json";
  std::string path = write_text(dir, "log.jsonl", "{\"user_id\":\"a\",\"events\":[]}\n" + bad2 + "\n" + bad3 +
                                                      "\n{\"user_id\":\"c\",\"events\":[]}\n");
  ReadOptions skip;
  skip.rejects_path = dir.file("rejects.jsonl");
  ReadReport report;
  auto logs = read_user_logs(path, skip, &report);
  EXPECT_EQ(logs.size(), 2u);
  EXPECT_EQ(report.records, 4u);
  EXPECT_EQ(report.accepted, 2u);
  EXPECT_EQ(report.rejected, 2u);
  auto rejects = upm::read_jsonl_file(skip.rejects_path);
  ASSERT_EQ(rejects.size(), 2u);
  EXPECT_EQ(rejects[0]["file"], path);
  EXPECT_EQ(rejects[0]["line"], 2);
  EXPECT_EQ(rejects[0]["problem"], path + ":2: events[0].text: required field is missing");
  EXPECT_EQ(rejects[0]["raw"], bad2);
  EXPECT_EQ(rejects[1]["line"], 3);
  EXPECT_EQ(rejects[1]["raw"], bad3);
  EXPECT_EQ(rejects[1]["problem"], path + ":3: invalid JSON");
}

TEST(RecordReader, Utf8Checker) {
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("ab\xc3"), 2u);           // truncated
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);         // overlong
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);    // surrogate
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u); // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\xe9t\xe9"), 2u);      // Latin-1
}

}  // namespace
