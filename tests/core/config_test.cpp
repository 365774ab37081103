#include "upm/core/config.h"

#include <fstream>

#include "test_util.h"

namespace {

struct OptimizerConfig {
  double lr = 1e-5;
  int warmup_steps = 0;
  std::string schedule = "cosine";
};
void describe(upm::ConfigIO& io, OptimizerConfig& c) {
  io.field("lr", c.lr).greater_than(0.0);
  io.field("warmup_steps", c.warmup_steps).at_least(0);
  io.field("schedule", c.schedule).one_of({"cosine", "linear", "constant"});
}

struct TrainConfig {
  std::string model;
  int batch_size = 8;
  bool bf16 = false;
  std::vector<std::string> targets{"q_proj", "v_proj"};
  OptimizerConfig optimizer;
};
void describe(upm::ConfigIO& io, TrainConfig& c) {
  io.field("model", c.model).required();
  io.field("batch_size", c.batch_size).at_least(1).at_most(4096);
  io.field("bf16", c.bf16);
  io.field("targets", c.targets);
  io.section("optimizer", c.optimizer);
}

using nlohmann::json;
using upm::InputError;

TrainConfig parse(const json& j, std::vector<std::string> overrides = {}) {
  return upm::config_from_json<TrainConfig>(j, "train.json", overrides);
}

TEST(Config, DefaultsApplyWhenKeysAreAbsent) {
  auto c = parse(json{{"model", "m"}});
  EXPECT_EQ(c.model, "m");
  EXPECT_EQ(c.batch_size, 8);
  EXPECT_DOUBLE_EQ(c.optimizer.lr, 1e-5);
  EXPECT_EQ(c.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
}

TEST(Config, ReadsNestedValues) {
  auto c = parse(
      json{{"model", "m"}, {"batch_size", 3}, {"bf16", true}, {"optimizer", {{"lr", 3e-4}, {"schedule", "linear"}}}});
  EXPECT_EQ(c.batch_size, 3);
  EXPECT_TRUE(c.bf16);
  EXPECT_DOUBLE_EQ(c.optimizer.lr, 3e-4);
  EXPECT_EQ(c.optimizer.schedule, "linear");
}

TEST(Config, UnknownKeyIsRejectedByNameWithHint) {
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"batch_sise", 2}}), InputError,
                        "train.json: batch_sise: unknown key (did you mean \"batch_size\"?)");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"optimizer", {{"learning_rate", 1}}}}), InputError,
                        "optimizer.learning_rate: unknown key");
}

TEST(Config, CommentKeysAreIgnored) { EXPECT_NO_THROW(parse(json{{"model", "m"}, {"// batch_size", "per rank"}})); }

TEST(Config, WrongTypeNamesFieldAndTypes) {
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"batch_size", "8"}}), InputError,
                        "batch_size: expected an integer, got string");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"batch_size", 2.5}}), InputError,
                        "batch_size: expected an integer, got 2.5");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", 5}}), InputError, "model: expected a string, got number");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"bf16", 1}}), InputError, "bf16: expected true or false");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"targets", {"a", 1}}}), InputError,
                        "targets: element 1: expected a string");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"optimizer", 1}}), InputError, "optimizer: expected an object");
}

TEST(Config, OutOfRangeValuesAreRejected) {
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"batch_size", 0}}), InputError, "batch_size: must be >= 1, got 0");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"optimizer", {{"lr", 0.0}}}}), InputError,
                        "optimizer.lr: must be > 0");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"optimizer", {{"schedule", "cosin"}}}}), InputError,
                        "must be one of {cosine, linear, constant}, got \"cosin\"");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}, {"batch_size", 1LL << 40}}), InputError, "integer out of range");
}

TEST(Config, RequiredFieldMustBeGiven) {
  UPM_EXPECT_THROW_WITH(parse(json::object()), InputError, "model: required but missing");
  EXPECT_EQ(parse(json::object(), {"model=from-cli"}).model, "from-cli");
}

TEST(Config, OverridesAreTypedLikeTheFile) {
  auto c = parse(json{{"model", "m"}}, {"batch_size=16", "optimizer.lr=2e-4", "bf16=true", "targets=[\"o_proj\"]",
                                        "optimizer.schedule=constant"});
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_DOUBLE_EQ(c.optimizer.lr, 2e-4);
  EXPECT_TRUE(c.bf16);
  EXPECT_EQ(c.targets, std::vector<std::string>{"o_proj"});
  EXPECT_EQ(c.optimizer.schedule, "constant");
  // A string field takes the text literally, even when it looks like a number.
  EXPECT_EQ(parse(json{{"model", "m"}}, {"model=2024"}).model, "2024");
  EXPECT_EQ(parse(json{{"model", "m"}}, {"model=a=b"}).model, "a=b");
}

TEST(Config, BadOverridesAreRejected) {
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}}, {"batch_size=many"}), InputError,
                        "--set: batch_size: expected an integer, got string (value \"many\")");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}}, {"optimizer.lrr=1"}), InputError,
                        "--set: optimizer.lrr: unknown key");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}}, {"no-equals-sign"}), InputError, "expected key=value");
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}}, {"batch_size=0"}), InputError, "batch_size: must be >= 1");
}

TEST(Config, ResolvedConfigRoundTrips) {
  auto c = parse(json{{"model", "m"}}, {"optimizer.warmup_steps=7"});
  json dumped = upm::config_to_json(c);
  EXPECT_EQ(dumped["optimizer"]["warmup_steps"], 7);
  EXPECT_EQ(dumped["batch_size"], 8);
  auto again = parse(dumped);
  EXPECT_EQ(upm::config_to_json(again), dumped);
}

TEST(Config, EveryProblemIsReportedAtOnce) {
  try {
    parse(json{{"batch_sise", 2}, {"bf16", 1}, {"optimizer", {{"lr", 0.0}, {"sched", "x"}}}}, {"nope=1"});
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("6 problems in train.json:\n", 0), 0u) << m;
    for (const char* part : {"train.json: model: required but missing",
                             "train.json: batch_sise: unknown key (did you mean \"batch_size\"?)",
                             "train.json: bf16: expected true or false", "train.json: optimizer.lr: must be > 0",
                             "train.json: optimizer.sched: unknown key", "--set: nope: unknown key"}) {
      EXPECT_NE(m.find(std::string("\n  ") + part), std::string::npos) << "missing: " << part << "\nin: " << m;
    }
  }
  // One problem reads as before: no count, no indentation.
  UPM_EXPECT_THROW_WITH(parse(json::object()), InputError, "train.json: model: required but missing");
}

struct RangeConfig {
  int low = 0, high = 1;
};
void describe(upm::ConfigIO& io, RangeConfig& c) {
  io.field("low", c.low);
  io.field("high", c.high);
  if (io.reading() && c.low > c.high) io.fail("high", "must be above low");
}
struct OuterConfig {
  RangeConfig range;
  int x = 0;
};
void describe(upm::ConfigIO& io, OuterConfig& c) {
  io.section("range", c.range);
  io.field("x", c.x).at_least(0);
}

TEST(Config, ACrossFieldCheckDoesNotHideTheOtherProblems) {
  try {
    upm::config_from_json<OuterConfig>(json{{"range", {{"low", 5}, {"high", 1}}}, {"x", -1}, {"typo", 1}}, "o.json");
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("3 problems in o.json:", 0), 0u) << m;
    EXPECT_NE(m.find("o.json: range.high: must be above low"), std::string::npos) << m;
    EXPECT_NE(m.find("o.json: x: must be >= 0, got -1"), std::string::npos) << m;
    EXPECT_NE(m.find("o.json: typo: unknown key"), std::string::npos) << m;
  }
}

TEST(Config, DeeplyNestedOverrideIsAProblemNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  UPM_EXPECT_THROW_WITH(parse(json{{"model", "m"}}, {"targets=" + deep}), InputError,
                        "--set: targets: nested deeper than 64 levels");
}

TEST(Config, FileSyntaxErrorsNameLineAndColumn) {
  upm::test::TempDir dir;
  std::string path = dir.file("bad.json");
  std::ofstream(path) << "{\n  \"model\": \"m\",\n  \"batch_size\": ,\n}\n";
  UPM_EXPECT_THROW_WITH(upm::load_config<TrainConfig>(path), InputError, path + ":3: invalid JSON at column");
  UPM_EXPECT_THROW_WITH(upm::load_config<TrainConfig>(dir.file("missing.json")), InputError,
                        "missing.json: cannot open file");
  // Found by fuzz/config_fuzz.cpp: a number beyond double's range was an uncaught exception (exit 1).
  std::ofstream(dir.file("huge.json")) << "{\"model\": \"m\", \"batch_size\": 1e99999}\n";
  UPM_EXPECT_THROW_WITH(upm::load_config<TrainConfig>(dir.file("huge.json")), InputError,
                        "huge.json: invalid JSON: number overflow parsing '1e99999'");
}

}  // namespace
