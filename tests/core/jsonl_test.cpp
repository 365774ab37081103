#include "upm/core/jsonl.h"

#include <fstream>

#include "test_util.h"

namespace {

using upm::InputError;

std::string write(const upm::test::TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(Jsonl, ReadsRecordsWithLineNumbersSkippingBlankLines) {
  upm::test::TempDir dir;
  auto path = write(dir, "a.jsonl", "{\"a\":1}\n\n   \n{\"a\":2}\r\n{\"a\":3}");
  upm::JsonlReader reader(path);
  std::vector<std::pair<size_t, int>> seen;
  while (auto r = reader.next()) {
    ASSERT_TRUE(r->ok()) << r->error;
    seen.emplace_back(r->line, r->value["a"].get<int>());
  }
  EXPECT_EQ(seen, (std::vector<std::pair<size_t, int>>{{1, 1}, {4, 2}, {5, 3}}));
}

TEST(Jsonl, MalformedLinesAreReportedWithFileAndLine) {
  upm::test::TempDir dir;
  auto path = write(dir, "b.jsonl", "{\"a\":1}\n{\"a\":\n[1,2]\n\"x\"\n{\"ok\":true}\n");
  upm::JsonlReader reader(path);
  std::vector<std::string> errors;
  int good = 0;
  while (auto r = reader.next()) {
    if (r->ok()) {
      ++good;
    } else {
      errors.push_back(upm::format_location(r->where(), r->error));
    }
  }
  EXPECT_EQ(good, 2);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], path + ":2: invalid JSON");
  EXPECT_EQ(errors[1], path + ":3: expected a JSON object, got array");
  EXPECT_EQ(errors[2], path + ":4: expected a JSON object, got string");

  upm::JsonlReader strict(path);
  EXPECT_TRUE(strict.next_strict().has_value());
  UPM_EXPECT_THROW_WITH(strict.next_strict(), InputError, path + ":2: invalid JSON");
}

TEST(Jsonl, InvalidUtf8IsAnErrorNotACrash) {
  upm::test::TempDir dir;
  auto path = write(dir, "c.jsonl", std::string("{\"t\":\"\xff\xfe\"}\n{\"t\":\"ok\"}\n"));
  upm::JsonlReader reader(path);
  auto first = reader.next();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->ok());
  auto second = reader.next();
  ASSERT_TRUE(second && second->ok());
  EXPECT_EQ(second->line, 2u);
}

TEST(Jsonl, TypedFieldErrorsNameFileLineAndField) {
  upm::test::TempDir dir;
  auto path = write(dir, "d.jsonl", "{\"user_id\": 7, \"n\": 3}\n");
  upm::JsonlReader reader(path);
  auto r = reader.next_strict();
  ASSERT_TRUE(r);
  EXPECT_EQ(upm::get_field<int>(*r, r->value, "n"), 3);
  EXPECT_EQ(upm::get_field_or<std::string>(*r, r->value, "missing", "dflt"), "dflt");
  UPM_EXPECT_THROW_WITH(upm::get_field<std::string>(*r, r->value, "user_id"), InputError,
                        path + ":1: user_id: expected a string, got 7");
  UPM_EXPECT_THROW_WITH(upm::get_field<double>(*r, r->value, "score"), InputError,
                        path + ":1: score: required field is missing");
}

TEST(Jsonl, MissingFileIsAnInputError) {
  UPM_EXPECT_THROW_WITH(upm::JsonlReader("/nonexistent/x.jsonl"), InputError, "/nonexistent/x.jsonl: cannot open");
}

}  // namespace
