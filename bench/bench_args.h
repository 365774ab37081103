#pragma once
// `--name value` and `--name` flags of the benchmark tools (upm-bench-*),
// which take a few numbers and no config file.

#include <cstdint>
#include <string>

namespace upm::bench {

// The value after `name`, or `fallback` when it is absent.
inline std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

inline int64_t arg(int argc, char** argv, const std::string& name, int64_t fallback) {
  return std::stoll(arg(argc, argv, name, std::to_string(fallback)));
}

inline bool flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == name) return true;
  }
  return false;
}

}  // namespace upm::bench
