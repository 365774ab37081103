// libFuzzer target: any bytes as a config file, with `--set` overrides taken
// from leading lines that start with "--set ". Loading must succeed or throw
// one InputError listing every problem; a loaded config must dump and load
// again to the same JSON; no input may crash the loader (deep nesting included).
//
//   cmake -S . -B build-fuzz -DUPM_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   cmake --build build-fuzz --target config_fuzz
//   build-fuzz/bin/config_fuzz -max_total_time=120 -max_len=65536 fuzz/corpus/config

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/data/prompt_config.h"
#include "upm/data/split.h"

namespace {

struct Item {
  std::string name;
  double weight = 1.0;
};
void describe(upm::ConfigIO& io, Item& c) {
  io.field("name", c.name).required();
  io.field("weight", c.weight).greater_than(0.0);
}

// Every kind of knob the loader reads.
struct FuzzConfig {
  std::string mode = "a";
  int count = 1;
  int64_t big = 0;
  uint64_t seed = 0;
  double rate = 0.5;
  float scale = 1.0f;
  bool flag = false;
  std::vector<std::string> names;
  std::map<std::string, double> weights;
  nlohmann::json extra;
  upm::data::SplitConfig split;
  upm::data::PromptConfig prompts;
  std::vector<Item> items;
};
void describe(upm::ConfigIO& io, FuzzConfig& c) {
  io.field("mode", c.mode).one_of({"a", "b"});
  io.field("count", c.count).at_least(0).at_most(100);
  io.field("big", c.big);
  io.field("seed", c.seed);
  io.field("rate", c.rate).at_least(0.0).at_most(1.0);
  io.field("scale", c.scale);
  io.field("flag", c.flag);
  io.field("names", c.names);
  io.field("weights", c.weights);
  io.field("extra", c.extra);
  io.section("split", c.split);
  io.section("prompts", c.prompts);
  io.section_list("items", c.items);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  while (text.rfind("--set ", 0) == 0) {
    const size_t end = text.find('\n');
    overrides.push_back(text.substr(6, end == std::string::npos ? std::string::npos : end - 6));
    text = end == std::string::npos ? "" : text.substr(end + 1);
  }
  try {
    nlohmann::json json = upm::parse_json_text(text, "fuzz.json");
    FuzzConfig config = upm::config_from_json<FuzzConfig>(json, "fuzz.json", overrides);
    const auto replace = nlohmann::json::error_handler_t::replace;
    nlohmann::json dumped = upm::config_to_json(config);
    const std::string once = dumped.dump(-1, ' ', false, replace);
    FuzzConfig again = upm::config_from_json<FuzzConfig>(nlohmann::json::parse(once), "dumped");
    // Floats and NaN aside, a dumped config loads to the same config.
    if (upm::config_to_json(again).dump(-1, ' ', false, replace) != once && once.find("NaN") == std::string::npos &&
        once.find("null") == std::string::npos) {
      __builtin_trap();
    }
  } catch (const upm::InputError&) {}
  return 0;
}
