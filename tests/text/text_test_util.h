#pragma once
// Shared by the text layer's tests: golden files and the reference files that
// PyPI packages ship (tests/reference_files.h).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "reference_files.h"
#include "upm/core/jsonl.h"
#include "upm/text/bpe_tokenizer.h"
#include "upm/text/utf8.h"
#include "test_paths.h"

namespace upm::test {

inline std::string text_data(const std::string& name) { return upm::test::test_data_dir() + "/text/" + name; }

// Declares `var`, the path of a reference file that a PyPI package ships
// (reference_files.h), and fails the test when it is not installed: a
// missing reference is a set-up fault, not a reason to pass.
#define UPM_REFERENCE_FILE(var, relative)                                                  \
  const std::string var = ::upm::test::venv_file(relative);                                \
  ASSERT_FALSE(var.empty()) << (relative) << " not found in " << ::upm::test::venv_dir()   \
                            << "/lib/python*/site-packages: run ./run setup (it installs " \
                            << "tools/setup/requirements-nodeps.txt)"

// The input bytes of a corpus/golden line: "text", or "hex" for non-UTF-8 bytes.
inline std::string line_bytes(const nlohmann::json& line) {
  if (!line.contains("hex")) return line.at("text").get<std::string>();
  std::string hex = line.at("hex").get<std::string>(), bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

// Checks a tokenizer.json against goldens from tools/reference/tokenizer_goldens.py.
inline void expect_goldens(const std::string& tokenizer_path, const std::string& golden_name) {
  auto tokenizer = BpeTokenizer::from_file(tokenizer_path);
  auto goldens = read_jsonl_file(text_data(golden_name));
  ASSERT_GT(goldens.size(), 10u);
  int line_number = 0;
  for (const auto& golden : goldens) {
    ++line_number;
    std::string input = line_bytes(golden);
    SCOPED_TRACE(golden_name + ":" + std::to_string(line_number) + " " + golden.dump().substr(0, 120));
    auto expected = golden.at("ids").get<std::vector<TokenId>>();
    auto ids = tokenizer->encode(input);
    ASSERT_EQ(ids, expected);
    EXPECT_EQ(tokenizer->encode(input, true), golden.value("ids_special", expected));
    // HF decodes to a lossy string; we return the exact bytes, which equal
    // it once repaired (they differ only where HF itself makes bytes that
    // are not UTF-8, e.g. a non-ASCII added token sent through ByteLevel).
    std::string decoded = golden.value("decoded", text::utf8_lossy(input));
    EXPECT_EQ(text::utf8_lossy(tokenizer->decode(ids)), decoded);
    EXPECT_EQ(text::utf8_lossy(tokenizer->decode(ids, true)), golden.value("decoded_skip", decoded));
    // Round trip: exact for valid UTF-8 that normalization leaves alone.
    if (!golden.contains("decoded") && text::is_valid_utf8(input)) EXPECT_EQ(tokenizer->decode(ids), input);
  }
}

}  // namespace upm::test
