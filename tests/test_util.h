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
#define UPM_EXPECT_THROW_WITH(statement, E, needle)                                   \
  do {                                                                               \
    try {                                                                            \
      statement;                                                                     \
      ADD_FAILURE() << "expected " #E " containing \"" << (needle) << "\"";        \
    } catch (const E& e) {                                                           \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)               \
          << "message: " << e.what() << "\nexpected to contain: " << (needle);       \
    }                                                                                \
  } while (0)

}  // namespace upm::test

#include <fstream>
#include <sstream>

namespace upm::test {
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
}  // namespace upm::test
