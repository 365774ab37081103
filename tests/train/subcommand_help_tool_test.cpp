// Every multi-command tool's --help lists each subcommand its files register
// (tools/upm-NAME/*.cpp, `RegisterSubcommand x{"name", "description", ...}`),
// with its one-line description; and the trainers take the job shortcuts.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "test_paths.h"

namespace {

namespace fs = std::filesystem;

const fs::path kToolsDir = fs::path(upm::test::test_data_dir()).parent_path().parent_path() / "tools";

struct Registered {
  std::string name;
  std::string description_start;  // the first string literal of the description
};

// The subcommands registered by the sources of tools/TOOL/, read as text so
// that the test does not trust the registry it checks.
std::vector<Registered> registered_subcommands(const std::string& tool) {
  static const std::regex kRegister(R"re(RegisterSubcommand\s+\w+\s*\{\s*"([^"]+)",\s*"((?:[^"\\]|\\.)*)")re");
  std::vector<Registered> out;
  for (const auto& entry : fs::directory_iterator(kToolsDir / tool)) {
    if (entry.path().extension() != ".cpp") continue;
    std::string text = upm::test::read_text(entry.path().string());
    for (std::sregex_iterator it(text.begin(), text.end(), kRegister), end; it != end; ++it) {
      std::string description = std::regex_replace((*it)[2].str(), std::regex(R"(\\(.))"), "$1");
      out.push_back({(*it)[1].str(), description});
    }
  }
  return out;
}

// The tools whose folder registers subcommands.
std::vector<std::string> multi_command_tools() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(kToolsDir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("upm-", 0) == 0 && !registered_subcommands(name).empty()) {
      out.push_back(name);
    }
  }
  return out;
}

TEST(SubcommandHelpTool, HelpListsEveryRegisteredSubcommandWithItsDescription) {
  const std::vector<std::string> tools = multi_command_tools();
  for (const char* expected : {"upm-data", "upm-infer", "upm-model", "upm-train"}) {
    EXPECT_NE(std::find(tools.begin(), tools.end(), expected), tools.end()) << expected << " registers nothing";
  }
  for (const auto& tool : tools) {
    auto help = upm::test::run_tool(tool, "--help");
    ASSERT_EQ(help.code, 0) << tool << "\n" << help.output;
    for (const auto& command : registered_subcommands(tool)) {
      // CLI11 writes "  NAME   DESCRIPTION" under "Subcommands:".
      const std::regex line(
          "\n +" + command.name + " +" +
          std::regex_replace(command.description_start.substr(0, 20), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"));
      EXPECT_TRUE(std::regex_search(help.output, line)) << tool << " --help does not list " << command.name << ":\n"
                                                        << help.output;
    }
  }
}

TEST(SubcommandHelpTool, TrainersTakeTheJobShortcuts) {
  for (const char* command : {"sft", "rl", "embed"}) {
    auto help = upm::test::run_tool("upm-train", std::string(command) + " --help");
    ASSERT_EQ(help.code, 0) << help.output;
    for (const char* flag : {"--config", "--set", "--model", "--output", "--resume", "--stop-after"}) {
      EXPECT_NE(help.output.find(flag), std::string::npos) << command << " lacks " << flag << ":\n" << help.output;
    }
  }
  // No config file: the struct's defaults, then the shortcuts; a missing key is named.
  upm::test::TempDir dir;
  auto run = upm::test::run_tool("upm-train", "sft --model " + dir.file("no-model") + " --output " + dir.file("run"));
  EXPECT_EQ(run.code, 2) << run.output;
  EXPECT_NE(run.output.find("data.train_file"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("run_dir"), std::string::npos) << run.output;
}

}  // namespace
