#pragma once
// Shared by the text layer's tests: golden files and the npm reference files.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/jsonl.h"

namespace upm::test {

inline std::string text_data(const std::string& name) { return std::string(UPM_TEST_DATA_DIR) + "/text/" + name; }

// A file of an npm package that tools/setup/text.sh installs under .cache/npm.
inline std::string npm_file(const std::string& relative) {
  return std::string(UPM_SOURCE_DIR) + "/.cache/npm/node_modules/" + relative;
}

#define UPM_SKIP_UNLESS_NPM(path)                                                        \
  if (!std::filesystem::exists(path))                                                    \
  GTEST_SKIP() << (path) << " is missing: run ./run setup (tools/setup/text.sh installs " \
               << "the npm reference packages)"

// The input bytes of a corpus/golden line: "text", or "hex" for non-UTF-8 bytes.
inline std::string line_bytes(const nlohmann::json& line) {
  if (!line.contains("hex")) return line.at("text").get<std::string>();
  std::string hex = line.at("hex").get<std::string>(), bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

}  // namespace upm::test
