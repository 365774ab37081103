// A 200 KB line of nested arrays in every data reader: no crash, the record
// reported as bad with file:line:field, exit 2 in strict mode, the other
// records read in lenient mode. A file with records and no good one exits 2.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data_test_util.h"
#include "upm/data/benchmark.h"
#include "upm/data/profile_record.h"
#include "upm/data/user_log.h"

namespace {

using upm::test::run_upm_data;
using upm::test::TempDir;
using upm::test::write_text;

const std::string kDeep = std::string(100000, '[') + std::string(100000, ']');

const std::string kLogs =
    "{\"user_id\":\"a\",\"events\":[{\"id\":\"e1\",\"kind\":\"text\",\"text\":\"hi\"}]}\n"
    "{\"user_id\":\"deep\",\"events\":[{\"id\":\"e1\",\"kind\":\"rating\",\"item\":\"x\",\"value\":" + kDeep + "}]}\n"
    "{\"user_id\":\"c\",\"events\":[{\"id\":\"e1\",\"kind\":\"click\",\"item\":\"y\"}]}\n";

const std::string kBenchmark =
    "{\"user_id\":\"a\",\"task_id\":\"t1\",\"options\":[\"x\",\"y\"],\"label\":0}\n"
    "{\"user_id\":\"a\",\"task_id\":\"t2\",\"options\":[\"x\",\"y\"],\"label\":" + kDeep + "}\n"
    "{\"user_id\":\"b\",\"task_id\":\"t3\",\"options\":[\"x\",\"y\"],\"label\":1}\n";

const std::string kProfiles =
    "{\"user_id\":\"a\",\"profile\":\"likes x\"}\n"
    "{\"user_id\":\"deep\",\"profile\":\"p\",\"event_ids\":" + kDeep + "}\n"
    "{\"user_id\":\"c\",\"profile\":\"likes y\"}\n";

upm::data::ReadOptions strict() {
  upm::data::ReadOptions options;
  options.strict = true;
  return options;
}

// Lenient: the two good records read, the deep one is one bounded problem at
// line 2 naming `field`; strict: an InputError there.
template <class Read, class Key>
void expect_deep_line_is_one_problem(Read read, Key key, const std::string& path, const std::string& field,
                                     const std::vector<std::string>& kept) {
  upm::data::ReadReport report;
  upm::data::ReadOptions lenient;
  lenient.rejects_path = path + ".rejects";
  auto records = read(path, lenient, &report);
  std::vector<std::string> keys;
  for (const auto& r : records) keys.push_back(key(r));
  EXPECT_EQ(keys, kept);
  ASSERT_EQ(report.problems.size(), 1u);
  const std::string expected = path + ":2: " + field + ": nested deeper than 64 levels";
  EXPECT_EQ(report.problems[0].rfind(expected, 0), 0u) << report.problems[0].substr(0, 300);
  EXPECT_LT(report.problems[0].size(), path.size() + 200);
  UPM_EXPECT_THROW_WITH(read(path, strict(), nullptr), upm::InputError, expected);
}

TEST(NestedJson, EveryRecordReaderSkipsTheDeepLineOrStopsOnIt) {
  TempDir dir;
  expect_deep_line_is_one_problem(upm::data::read_user_logs, [](const upm::data::UserLog& l) { return l.user_id; },
                                  write_text(dir, "logs.jsonl", kLogs), "events[0].value", {"a", "c"});
  expect_deep_line_is_one_problem(upm::data::read_benchmark, [](const upm::data::BenchmarkTask& t) { return t.task_id; },
                                  write_text(dir, "bench.jsonl", kBenchmark), "label", {"t1", "t3"});
  expect_deep_line_is_one_problem(upm::data::read_profiles, [](const upm::data::ProfileRecord& p) { return p.user_id; },
                                  write_text(dir, "profiles.jsonl", kProfiles), "event_ids", {"a", "c"});
}

TEST(NestedJson, UpmDataStatsAndSplitGoOnOrExitTwo) {
  TempDir dir;
  const std::string logs = write_text(dir, "logs.jsonl", kLogs);
  auto strict_run = run_upm_data("stats --strict --input " + logs);
  EXPECT_EQ(strict_run.code, 2) << strict_run.output.substr(0, 2000);
  EXPECT_NE(strict_run.output.find(logs + ":2: events[0].value: nested deeper"), std::string::npos);
  EXPECT_LT(strict_run.output.size(), 2000u) << "no dump of the deep value";

  auto lenient_run = run_upm_data("stats --input " + logs + " --rejects " + dir.file("rejects.jsonl"));
  EXPECT_EQ(lenient_run.code, 0) << lenient_run.output.substr(0, 2000);
  EXPECT_NE(lenient_run.output.find("\"users\": 2"), std::string::npos) << lenient_run.output.substr(0, 2000);

  auto split_run = run_upm_data("split --input " + logs + " --output " + dir.file("split"));
  EXPECT_EQ(split_run.code, 0) << split_run.output.substr(0, 2000);

  const std::string bench = write_text(dir, "bench.jsonl", kBenchmark);
  auto bench_run = run_upm_data("stats --benchmark " + bench);
  EXPECT_EQ(bench_run.code, 0) << bench_run.output.substr(0, 2000);
  EXPECT_EQ(run_upm_data("stats --strict --benchmark " + bench).code, 2);
}

TEST(NestedJson, NoUsableRecordExitsTwoAndAnEmptyInputWarns) {
  TempDir dir;
  std::string garbage;
  for (int i = 0; i < 50; ++i) garbage += std::string("\x7f" "ELF\x01\x02 binary ", 13) + std::to_string(i) + "\n";
  const std::string binary = write_text(dir, "binary.jsonl", garbage);
  auto run = run_upm_data("stats --input " + binary);
  EXPECT_EQ(run.code, 2) << run.output.substr(0, 2000);
  EXPECT_NE(run.output.find(binary + ": none of the 50 records is usable; first: " + binary + ":1: invalid JSON"),
            std::string::npos)
      << run.output.substr(0, 2000);

  const std::string empty = write_text(dir, "empty.jsonl", "");
  auto quiet = run_upm_data("stats --input " + empty);
  EXPECT_EQ(quiet.code, 0) << quiet.output;
  EXPECT_NE(quiet.output.find(empty + ": no records (empty input)"), std::string::npos) << quiet.output;
}

}  // namespace
