#pragma once
// Helpers shared by the test binaries: scratch directories and error checks.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace upm::test {

// A fresh directory under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    auto base = std::filesystem::temp_directory_path() / "upm-test-XXXXXX";
    std::string pattern = base.string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs `statement`, expects exception type E whose what() contains `needle`.
#define UPM_EXPECT_THROW_WITH(statement, E, needle)                            \
  do {                                                                         \
    try {                                                                      \
      statement;                                                               \
      ADD_FAILURE() << "expected " #E " containing \"" << (needle) << "\"";    \
    } catch (const E& e) {                                                     \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)         \
          << "message: " << e.what() << "\nexpected to contain: " << (needle); \
    }                                                                          \
  } while (0)

}  // namespace upm::test

#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace upm::test {
// The objects of a JSONL output file (blank lines skipped; a missing file
// reads as none, so "no errors file" and "empty errors file" compare alike).
inline std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
}  // namespace upm::test

#include <sys/wait.h>

#include <cstdio>
#include "test_paths.h"

namespace upm::test {
// A built tool run as a user would: bin_dir()/<tool> <args>, stdout and
// stderr together, and its exit code (-1 if it did not exit normally).
struct ToolResult {
  int code;
  std::string output;
};

inline ToolResult run_tool(const std::string& tool, const std::string& args) {
  std::string command = upm::test::bin_dir() + "/" + tool + " " + args + " 2>&1";
  ToolResult r{-1, ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) r.output.append(buffer, n);
  int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
}  // namespace upm::test
