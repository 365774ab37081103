#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "data_test_util.h"
#include "upm/core/jsonl.h"
#include "upm/data/conversion.h"
#include "upm/data/debian_packages.h"
#include "upm/data/movielens.h"
#include "upm/data/pairwise_import.h"

namespace {

using namespace upm::data;
using upm::test::fixture;
using upm::test::run_upm_data;
using upm::test::slurp;
using upm::test::TempDir;
using upm::test::write_text;

std::vector<UserLog> debian_fixture_logs(DebianConvertReport* report = nullptr) {
  std::ifstream in(fixture("debian_packages.deb822"));
  auto stanzas = parse_deb822(in, "fixture");
  return debian_packages_to_logs(stanzas, DebianConvertConfig{}, report);
}

const Event* find_event(const UserLog& log, const std::string& id) {
  for (const auto& e : log.events)
    if (e.id == id) return &e;
  return nullptr;
}

TEST(DebianPackages, MaintainersAndUploadersWithEnoughPackagesBecomeUsers) {
  DebianConvertReport report;
  auto logs = debian_fixture_logs(&report);
  EXPECT_EQ(report.stanzas, 18u);
  EXPECT_EQ(report.packages, 17u);
  EXPECT_EQ(report.duplicates, 1u);
  // agi, leamas, alen (5 + patool as uploader), abhijith (2), jane (1).
  EXPECT_EQ(report.maintainers, 5u);
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].user_id, "agi@inittab.org");
  EXPECT_EQ(logs[1].user_id, "alen@nms.hr");  // e-mail lower-cased: ALEN@ in Uploaders is the same user
  EXPECT_EQ(logs[2].user_id, "leamas.alec@gmail.com");
  EXPECT_EQ(logs[1].extra["name"], "Alen Zekulic");
  EXPECT_EQ(logs[1].events.size(), 6u);
  const Event* the = find_event(logs[1], "the");
  ASSERT_NE(the, nullptr);
  EXPECT_EQ(the->kind, EventKind::click);
  EXPECT_EQ(the->category, "editors");
  EXPECT_EQ(the->item,
            "the | editors | Full-screen character mode text editor. A text editor in the style of XEDIT and KEDIT. "
            "THE supports Rexx macros and multiple files.");
  EXPECT_NE(find_event(logs[1], "patool"), nullptr);
}

TEST(DebianPackages, DeterministicAndSplitAsksWhichPackageTheUserMaintains) {
  auto a = debian_fixture_logs(), b = debian_fixture_logs();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(to_json(a[i]), to_json(b[i]));
  SplitConfig config;
  config.val_fraction = 0;
  config.test_fraction = 0.4;
  auto split = split_logs(a, config);
  ASSERT_EQ(split.test.size(), 6u);  // 2 held-out packages per user
  std::map<std::string, std::set<std::string>> sections_of;
  for (const auto& log : a)
    for (const auto& e : log.events) sections_of[log.user_id].insert(e.item);
  for (const auto& t : split.test) {
    EXPECT_EQ(t.context, "Which package does this person maintain?");
    EXPECT_TRUE(sections_of[t.user_id].count(t.options[t.label])) << t.task_id;
    EXPECT_FALSE(sections_of[t.user_id].count(t.options[1 - t.label])) << t.task_id;
  }
}

TEST(DebianPackages, MaxPackagesKeepsTheFirstInHashOrder) {
  auto all = debian_fixture_logs();
  std::ifstream in(fixture("debian_packages.deb822"));
  DebianConvertConfig config;
  config.max_packages = 5;
  auto capped = debian_packages_to_logs(parse_deb822(in, "fixture"), config);
  ASSERT_EQ(capped.size(), 3u);
  ASSERT_EQ(capped[1].events.size(), 5u);  // alen: 6 -> 5
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(capped[1].events[i].id, all[1].events[i].id);
  EXPECT_EQ(capped[0].events.size(), all[0].events.size());
}

TEST(DebianPackages, Deb822ParsingErrorsAndPeopleLists) {
  std::istringstream bad("Package: x\n continuation\nnot a field\n");
  UPM_EXPECT_THROW_WITH(parse_deb822(bad, "f.deb822"), upm::InputError, "f.deb822:3: expected \"Field: value\"");
  std::istringstream orphan(" leading continuation\n");
  UPM_EXPECT_THROW_WITH(parse_deb822(orphan, "f.deb822"), upm::InputError,
                        "f.deb822:1: continuation line outside a field");
  EXPECT_EQ(split_people("A <a@x.org>, B C <b@y.org>,\n D, Jr. <d@z.org>"),
            (std::vector<std::string>{"A <a@x.org>", "B C <b@y.org>", "D, Jr. <d@z.org>"}));
}

TEST(MovieLens, Ml100kLayout) {
  MovieLensReport report;
  auto logs = movielens_to_logs(fixture("ml-100k"), &report);
  EXPECT_EQ(report.layout, "ml-100k");
  EXPECT_EQ(report.ratings, 7u);
  EXPECT_EQ(report.movies, 5u);
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].user_id, "ml-1");
  ASSERT_EQ(logs[0].events.size(), 3u);
  // Time order: movie 3 (881250800) first; its Latin-1 title converted.
  const Event& first = logs[0].events[0];
  EXPECT_EQ(first.id, "m3");
  EXPECT_EQ(first.item, "Mis\xc3\xa9rables, Les (1995) | Drama");
  EXPECT_EQ(first.ts, "1997-12-04T15:53:20Z");
  EXPECT_EQ(logs[0].events[1].item, "Toy Story (1995) | Animation, Children's, Comedy");
  EXPECT_EQ(logs[0].events[2].item, "Alien (1979) | Action, Horror, Sci-Fi, Thriller");
  EXPECT_EQ(logs[0].events[2].category, "Action");
  EXPECT_EQ(logs[0].events[2].value, 1);
  EXPECT_EQ(logs[0].events[2].rating_scale()[1], 5);
}

TEST(MovieLens, CsvLayoutWithQuotedTitles) {
  MovieLensReport report;
  auto logs = movielens_to_logs(fixture("ml-csv"), &report);
  EXPECT_EQ(report.layout, "csv");
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1].user_id, "ml-7");
  ASSERT_EQ(logs[0].events.size(), 3u);
  EXPECT_EQ(logs[0].events[0].item, "Toy Story (1995) | Adventure, Animation, Children, Comedy, Fantasy");
  EXPECT_EQ(logs[0].events[1].item,
            "Dr. Strangelove or: How I Learned to Stop Worrying and Love the \"Bomb\" (1964) | Comedy, War");
  EXPECT_EQ(logs[0].events[1].value, 0.5);
  EXPECT_EQ(logs[0].events[2].item, "American President, The (1995) | Comedy, Drama, Romance");
  EXPECT_EQ(logs[1].events[1].item, "Empty (2000)");
  EXPECT_EQ(logs[1].events[1].category, "");
}

TEST(MovieLens, MalformedInputNamesFileLineAndField) {
  TempDir dir;
  write_text(dir, "movies.csv", "movieId,title,genres\n1,A,Drama\n");
  write_text(dir, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,100\n1,1,x,100\n");
  UPM_EXPECT_THROW_WITH(movielens_to_logs(dir.path()), upm::InputError,
                        dir.file("ratings.csv") + ":3: rating: expected a number, got \"x\"");
  write_text(dir, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,7,100\n");
  UPM_EXPECT_THROW_WITH(movielens_to_logs(dir.path()), upm::InputError,
                        dir.file("ratings.csv") + ":2: rating: rating 7 is outside the scale [0.5, 5]");
  write_text(dir, "ratings.csv", "userId,movieId,rating,timestamp\n1,2,4,100\n");
  UPM_EXPECT_THROW_WITH(movielens_to_logs(dir.path()), upm::InputError, "rating of unknown movie 2");
  TempDir empty;
  UPM_EXPECT_THROW_WITH(movielens_to_logs(empty.path()), upm::InputError, "no MovieLens data");
}

TEST(PairwiseImport, BothLayoutsWithRejects) {
  TempDir dir;
  ReadOptions options;
  options.rejects_path = dir.file("rejects.jsonl");
  ReadReport report;
  auto logs = pairwise_to_logs(fixture("pairwise.jsonl"), PairwiseImportConfig{}, options, &report);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].user_id, "alice");
  ASSERT_EQ(logs[0].events.size(), 2u);
  EXPECT_EQ(logs[0].events[0].id, "p1");
  EXPECT_EQ(logs[0].events[0].context, "Explain RL briefly");
  EXPECT_EQ(logs[0].events[0].ts, "2024-01-02T10:00:00Z");
  EXPECT_EQ(logs[0].events[0].source, "pairwise");
  EXPECT_EQ(logs[0].events[1].id, "p9");
  ASSERT_EQ(logs[1].events.size(), 2u);
  EXPECT_EQ(logs[1].events[1].id, "b2");
  EXPECT_EQ(logs[1].events[1].extra["rating_margin"], 2);
  const std::string f = fixture("pairwise.jsonl");
  EXPECT_EQ(report.problems, (std::vector<std::string>{f + ":3: rejected: is identical to \"chosen\"",
                                                        f + ":4: user_id: required field is missing"}));
  EXPECT_EQ(upm::read_jsonl_file(options.rejects_path).size(), 2u);
}

TEST(Convert, ToolWritesTheLibrarysLogAndSplit) {
  TempDir a;
  auto result = run_upm_data("convert debian-packages --input " + fixture("debian_packages.deb822") + " --output " +
                             a.path() + " --test-fraction 0.4 --val-fraction 0");
  ASSERT_EQ(result.code, 0) << result.output;
  // The tool's files equal what the library makes from the same input.
  auto logs = debian_fixture_logs();
  std::string expected_log;
  for (const auto& log : logs) expected_log += to_json(log).dump() + "\n";
  EXPECT_EQ(slurp(a.file("log.jsonl")), expected_log);
  SplitConfig config;
  config.val_fraction = 0;
  config.test_fraction = 0.4;
  auto split = split_logs(logs, config);
  std::string expected_test;
  for (const auto& task : split.test) expected_test += to_json(task).dump() + "\n";
  EXPECT_EQ(slurp(a.file("test.jsonl")), expected_test);
  EXPECT_FALSE(slurp(a.file("users_eval.txt")).empty());
  auto movielens = run_upm_data("convert movielens --input " + fixture("ml-100k") + " --output " + a.file("ml") +
                                " --no-split");
  ASSERT_EQ(movielens.code, 0) << movielens.output;
  EXPECT_EQ(upm::read_jsonl_file(a.file("ml/log.jsonl")).size(), 3u);
  auto strict = run_upm_data("convert pairwise --strict --input " + fixture("pairwise.jsonl") + " --output " +
                             a.file("pw"));
  EXPECT_EQ(strict.code, 2) << strict.output;
  EXPECT_NE(strict.output.find("pairwise.jsonl:3: rejected: is identical to \"chosen\""), std::string::npos);
  EXPECT_EQ(run_upm_data("convert movielens --input /nonexistent --output " + a.file("x")).code, 2);
  EXPECT_EQ(run_upm_data("convert").code, 2);
}

}  // namespace
