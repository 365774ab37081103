#pragma once
// Helpers of the data-layer tests: write a file, read it back, run a tool.

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "test_util.h"

namespace upm::test {

inline std::string write_text(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string fixture(const std::string& name) {
  return std::string(UPM_TEST_DATA_DIR) + "/data/" + name;
}

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs build/bin/upm-data with `args` (already shell-quoted where needed).
inline ToolResult run_upm_data(const std::string& args) {
  std::string command = std::string(UPM_BIN_DIR) + "/upm-data " + args + " 2>&1";
  ToolResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace upm::test
