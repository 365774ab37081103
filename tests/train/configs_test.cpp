// Every file under configs/ loads as the job it is for (torchtune's
// test_configs spirit): a renamed or mistyped key in a shipped recipe fails
// here, not on a GPU an hour into a run. A new config file must be listed.
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "upm/core/config.h"
#include "upm/model/model_config.h"
#include "upm/pipeline/eval/evaluator.h"
#include "upm/pipeline/teach/judge_data.h"
#include "upm/pipeline/teach/profile_rows.h"
#include "upm/pipeline/profile/profiler.h"
#include "upm/pipeline/teach/sft_data_builder.h"
#include "upm/train/grpo_config.h"
#include "upm/train/sft_config.h"
#include "upm/core/source_dir.h"

namespace upm {
namespace {

namespace fs = std::filesystem;

template <class Config>
std::function<void(const std::string&)> loads_as() {
  return [](const std::string& path) { (void)load_config<Config>(path); };
}

// A recipe template: ${NAME} placeholders that the recipe script fills in
// (envsubst). Quoted ones load as strings; bare ones stand for numbers, so
// they become 1 in a rendered copy.
template <class Config>
std::function<void(const std::string&)> loads_rendered_as() {
  return [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string rendered = std::regex_replace(text.str(), std::regex(R"((:\s*)\$\{[A-Z_]+\})"), "$011");
    const fs::path copy = fs::temp_directory_path() / ("upm-config-" + std::to_string(::getpid()) + ".json");
    std::ofstream(copy) << rendered;
    try {
      (void)load_config<Config>(copy.string());
    } catch (...) {
      fs::remove(copy);
      throw;
    }
    fs::remove(copy);
  };
}

// configs/-relative path -> how it is loaded.
const std::map<std::string, std::function<void(const std::string&)>>& known_configs() {
  static const std::map<std::string, std::function<void(const std::string&)>> known{
      {"sft_tiny.json", loads_as<SftConfig>()},
      {"build_sft_tiny.json", loads_as<BuildSftConfig>()},
      {"demo/build_sft.json", loads_as<BuildSftConfig>()},
      {"demo/sft.json", loads_as<SftConfig>()},
      {"demo/rl.json", loads_as<GrpoConfig>()},
      {"demo/profile.json", loads_as<ProfileJobConfig>()},
      {"demo/model_config.json", [](const std::string& p) { (void)load_model_config(p); }},
      {"models/tiny-sft/config.json", [](const std::string& p) { (void)load_model_config(p); }},
      {"models/qwen3-8b/config.json", [](const std::string& p) { (void)load_model_config(p); }},
      {"qwen3-8b/sft_lora.json", loads_as<SftConfig>()},
      {"qwen3-8b/profile.json", loads_as<ProfileJobConfig>()},
      {"qwen3-8b/eval.json", loads_as<EvalConfig>()},
      {"qwen3-8b/rl.json", loads_as<GrpoConfig>()},
      {"qwen3-8b/rl_alignxplore_plus.json", loads_as<GrpoConfig>()},
      {"qwen3-8b/build_sft.json", loads_as<BuildSftConfig>()},
      // The MovieLens recipe's configs hold ${RUN}-style placeholders that
      // tools/recipes/movielens.sh fills in; as strings they load as they are.
      {"movielens/build_sft_local.json", loads_rendered_as<BuildSftConfig>()},
      {"movielens/build_sft_rule.json", loads_rendered_as<BuildSftConfig>()},
      {"movielens/eval.json", loads_rendered_as<EvalConfig>()},
      {"movielens/judge_check.json", loads_rendered_as<EvalConfig>()},
      {"movielens/judge_rows.json", loads_rendered_as<JudgeRowsJob>()},
      {"movielens/judge_sft.json", loads_rendered_as<SftConfig>()},
      {"movielens/profile.json", loads_rendered_as<ProfileJobConfig>()},
      {"movielens/rl.json", loads_rendered_as<GrpoConfig>()},
      {"movielens/sft.json", loads_rendered_as<SftConfig>()},
      {"movielens/teacher_rows.json", loads_rendered_as<ProfileRowsJob>()},
  };
  return known;
}

TEST(Configs, EveryShippedConfigLoadsAsItsJob) {
  const fs::path root = fs::path(upm::source_dir()) / "configs";
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    const std::string relative = fs::relative(entry.path(), root).generic_string();
    auto known = known_configs().find(relative);
    if (known == known_configs().end()) {
      ADD_FAILURE() << "configs/" << relative << " is not listed in tests/train/configs_test.cpp";
      continue;
    }
    EXPECT_NO_THROW(known->second(entry.path().string())) << "configs/" << relative;
    ++checked;
  }
  EXPECT_EQ(checked, int(known_configs().size())) << "a listed config file is missing";
}

}  // namespace
}  // namespace upm
