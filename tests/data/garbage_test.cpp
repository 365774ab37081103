// Parsers of untrusted files survive garbage: random bytes and mangled
// records give located errors or rejects, never a crash.
#include <gtest/gtest.h>

#include <sstream>

#include "data_test_util.h"
#include "upm/data/benchmark.h"
#include "upm/data/debian_packages.h"
#include "upm/data/movielens.h"
#include "upm/data/profile_record.h"
#include "upm/core/random.h"
#include "upm/data/user_log.h"

namespace {

using namespace upm::data;
using upm::Rng;
using upm::test::TempDir;
using upm::test::write_text;

// A valid line with random bytes overwritten, deleted or duplicated.
std::string mangle(const std::string& line, Rng& rng) {
  std::string out = line;
  int edits = static_cast<int>(rng.between(1, 4));
  for (int k = 0; k < edits && !out.empty(); ++k) {
    std::size_t at = rng.below(out.size());
    switch (rng.below(3)) {
      case 0: out[at] = static_cast<char>(rng.below(256)); break;
      case 1: out.erase(at, 1); break;
      default: out.insert(at, out.substr(at, rng.below(8))); break;
    }
  }
  return out;
}

TEST(Garbage, MangledRecordsAreRejectedOrAcceptedNeverCrash) {
  const std::string log_line =
      R"({"user_id":"u1","events":[{"id":"e1","kind":"rating","item":"A","value":4,"scale":[1,5],"ts":"2024-01-01"},)"
      R"({"id":"e2","kind":"pairwise","chosen":"x","rejected":"y"},{"id":"e3","kind":"click","item":"B"},)"
      R"({"id":"e4","kind":"text","text":"hi"}]})";
  const std::string task_line = R"({"user_id":"u","task_id":"t","context":"c","options":["a","b"],"label":1})";
  const std::string profile_line = R"({"user_id":"u","profile":"p","version":2,"events_seen":3})";
  Rng rng(42);
  TempDir dir;
  std::string logs, tasks, profiles;
  for (int i = 0; i < 400; ++i) {
    logs += mangle(log_line, rng) + "\n";
    tasks += mangle(task_line, rng) + "\n";
    profiles += mangle(profile_line, rng) + "\n";
  }
  ReadReport report;
  read_user_logs(write_text(dir, "l.jsonl", logs), {}, &report);
  EXPECT_EQ(report.accepted + report.rejected, report.records);
  EXPECT_GT(report.rejected, 100u);
  EXPECT_GE(report.problems.size(), report.rejected);
  read_benchmark(write_text(dir, "b.jsonl", tasks), {}, &report);
  EXPECT_EQ(report.accepted + report.rejected, report.records);
  read_profiles(write_text(dir, "p.jsonl", profiles), {}, &report);
  EXPECT_EQ(report.accepted + report.rejected, report.records);
}

TEST(Garbage, RandomBytesInConvertersGiveInputErrors) {
  Rng rng(7);
  int located = 0;  // errors that name the file
  for (int round = 0; round < 50; ++round) {
    std::string bytes;
    for (int i = 0; i < 300; ++i) bytes += static_cast<char>(rng.below(256));
    std::istringstream in(bytes);
    try {
      auto stanzas = parse_deb822(in, "garbage");
      debian_packages_to_logs(stanzas, DebianConvertConfig{});
    } catch (const upm::InputError& e) {
      located += std::string(e.what()).rfind("garbage:", 0) == 0;
    }
    TempDir dir;
    write_text(dir, "ratings.csv", bytes);
    write_text(dir, "movies.csv", bytes);
    try {
      movielens_to_logs(dir.path());
    } catch (const upm::InputError& e) {
      located += std::string(e.what()).find(dir.path()) != std::string::npos;
    }
  }
  EXPECT_GT(located, 50);
}

}  // namespace
