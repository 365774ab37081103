#pragma once
// Helpers of the data-layer tests: write a file, read it back, run a tool.

#include <fstream>
#include <sstream>
#include <string>

#include "test_util.h"
#include "test_paths.h"

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

inline std::string fixture(const std::string& name) { return upm::test::test_data_dir() + "/data/" + name; }

// Runs build/bin/upm-data with `args` (already shell-quoted where needed).
inline ToolResult run_upm_data(const std::string& args) { return run_tool("upm-data", args); }

}  // namespace upm::test
