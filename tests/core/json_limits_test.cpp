// Deeply nested JSON never crashes a reader: the depth is checked on the raw
// text before a value is built, the bad record is located (file:line:field)
// and messages quote a bounded excerpt.
#include "upm/core/json_limits.h"

#include <fstream>

#include "test_util.h"
#include "upm/core/config.h"
#include "upm/core/jsonl.h"

namespace {

using upm::InputError;

// A user-log line whose event value is `depth` nested arrays (2 bytes each):
// 100k levels is the 200 KB line that used to kill every reader.
std::string nested_line(int depth) {
  return R"({"user_id":"deep","events":[{"id":"e1","kind":"rating","item":"x","value":)" + std::string(depth, '[') +
         std::string(depth, ']') + "}]}";
}

std::string write(const upm::test::TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(JsonLimits, DepthIsCountedOnTheRawTextAndLocated) {
  EXPECT_FALSE(upm::check_json_depth(std::string(64, '[') + std::string(64, ']'), 64));
  auto deep = upm::check_json_depth(std::string(65, '[') + std::string(65, ']'), 64);
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->field, "");
  EXPECT_EQ(deep->offset, 0u);

  auto in_event = upm::check_json_depth(nested_line(100000), 64);
  ASSERT_TRUE(in_event);
  EXPECT_EQ(in_event->field, "events[0].value");
  EXPECT_EQ(nested_line(100000).substr(in_event->offset, 3), "[[[");
  EXPECT_NE(in_event->problem.find("nested deeper than 64 levels"), std::string::npos) << in_event->problem;
  EXPECT_LT(in_event->problem.size(), 200u) << "the message quotes a bounded excerpt";

  // Brackets inside strings (escaped quotes too) are text, not nesting.
  const std::string quoted = R"({"a":")" + std::string(500, '[') + R"(\"[[[","b":[1,[2]]})";
  EXPECT_FALSE(upm::check_json_depth(quoted, 3));
  auto keyed = upm::check_json_depth(R"({"a":1,"b":{"c":[0,1,[[[]]]]}})", 4);
  ASSERT_TRUE(keyed);
  EXPECT_EQ(keyed->field, "b.c");
}

TEST(JsonLimits, BoundedParseRefusesBeforeBuilding) {
  std::string error, field;
  auto value = upm::parse_json_bounded(nested_line(100000), 64, &error, &field);
  EXPECT_TRUE(value.is_discarded());
  EXPECT_EQ(field, "events[0].value");
  EXPECT_NE(error.find("nested deeper than 64"), std::string::npos);
  auto ok = upm::parse_json_bounded(R"({"a":[[1]]})", 64, &error, &field);
  EXPECT_EQ(ok["a"][0][0], 1);
  EXPECT_TRUE(upm::parse_json_bounded("{\"a\":", 64, &error, &field).is_discarded());
  EXPECT_EQ(error, "invalid JSON");
}

TEST(JsonLimits, ExcerptsAreBounded) {
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) big.push_back(i);
  const std::string e = upm::json_excerpt(big, 60);
  EXPECT_LE(e.size(), 63u);  // 60 bytes and "…"
  EXPECT_EQ(e.substr(0, 6), "[0,1,2");
  nlohmann::json deep = 1;
  for (int i = 0; i < 40; ++i) deep = nlohmann::json::array({deep});
  EXPECT_EQ(upm::json_excerpt(deep), "[[[[...]]]]");
  EXPECT_EQ(upm::json_excerpt(nlohmann::json(std::string(1000, 'x')), 10).size(), 10u + 3u);
  // Invalid UTF-8 is replaced, so the excerpt can go into a JSON errors file.
  EXPECT_EQ(upm::text_excerpt("a\xff"
                              "b",
                              40),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(upm::text_excerpt(std::string(100, 'z'), 5), "zzzzz\xE2\x80\xA6");
}

TEST(JsonLimits, JsonlReaderReportsTheDeepLineAndGoesOn) {
  upm::test::TempDir dir;
  auto path = write(dir, "deep.jsonl", "{\"a\":1}\n" + nested_line(100000) + "\n{\"a\":3}\n");
  upm::JsonlReader reader(path);
  auto first = reader.next();
  ASSERT_TRUE(first && first->ok());
  auto deep = reader.next();
  ASSERT_TRUE(deep);
  EXPECT_FALSE(deep->ok());
  EXPECT_TRUE(deep->value.is_null());
  const std::string message = upm::format_location(deep->where(), deep->error);
  EXPECT_EQ(message.rfind(path + ":2: events[0].value: nested deeper than 64 levels", 0), 0u) << message;
  EXPECT_LT(message.size(), path.size() + 200);
  auto third = reader.next();
  ASSERT_TRUE(third && third->ok());
  EXPECT_EQ(third->value["a"], 3);

  upm::JsonlReader strict(path);
  strict.next_strict();
  UPM_EXPECT_THROW_WITH(strict.next_strict(), InputError, path + ":2: events[0].value: nested deeper");
}

TEST(JsonLimits, TheLimitIsAKnob) {
  upm::test::TempDir dir;
  auto path = write(dir, "three.jsonl", "{\"a\":[[[1]]]}\n");
  EXPECT_TRUE(upm::JsonlReader(path).next()->ok());
  EXPECT_FALSE(upm::JsonlReader(path, 3).next()->ok());
  upm::set_max_json_depth(3);
  EXPECT_FALSE(upm::JsonlReader(path).next()->ok());
  upm::set_max_json_depth(upm::kDefaultMaxJsonDepth);
  EXPECT_TRUE(upm::JsonlReader(path).next()->ok());
}

TEST(JsonLimits, TypedFieldErrorsQuoteAnExcerpt) {
  upm::test::TempDir dir;
  std::string line = "{\"n\":[";
  for (int i = 0; i < 50000; ++i) line += std::to_string(i) + ",";
  line += "0]}";
  auto path = write(dir, "wide.jsonl", line + "\n");
  upm::JsonlReader reader(path);
  auto r = reader.next_strict();
  try {
    upm::get_field<int>(*r, r->value, "n");
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("n: expected an integer, got [0,1,2,"), std::string::npos) << e.what();
    EXPECT_LT(std::string(e.what()).size(), path.size() + 120);
  }
}

TEST(JsonLimits, DeepConfigFileIsAnInputErrorNamingLineAndField) {
  upm::test::TempDir dir;
  auto path =
      write(dir, "deep.json",
            "{\n  \"model\": \"m\",\n  \"extra\": " + std::string(100000, '[') + std::string(100000, ']') + "\n}\n");
  UPM_EXPECT_THROW_WITH(upm::read_json_file(path), InputError, path + ":3: extra: at column 12: nested deeper than 64");
  UPM_EXPECT_THROW_WITH(upm::parse_json_text("[" + std::string(100, '{'), "text"), InputError, "text:1: ");
}

}  // namespace
