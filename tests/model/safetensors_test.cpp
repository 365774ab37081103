#include <cstring>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/model/safetensors.h"
#include "upm/model/safetensors_folder.h"

namespace upm::test {
namespace {

// A file made of an explicit header text and `data_bytes` zero bytes.
std::string file_bytes(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

SafetensorsHeader parse(const std::string& bytes) {
  return parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.safetensors");
}

TEST(Safetensors, WritesAndMapsEveryDtype) {
  TempDir dir;
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"f32", torch::randn({3, 4})},
      {"bf16", torch::randn({5}).to(torch::kBFloat16)},
      {"f16", torch::randn({2, 2}).to(torch::kHalf)},
      {"f64", torch::randn({1}).to(torch::kDouble)},
      {"i64", torch::arange(7)},
      {"i32", torch::arange(3).to(torch::kInt)},
      {"i16", torch::arange(3).to(torch::kShort)},
      {"i8", torch::arange(-2, 2).to(torch::kChar)},
      {"u8", torch::arange(9).to(torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5f)},
      {"empty", torch::zeros({0, 4})},
      {"strided", torch::randn({4, 6}).t()},  // stored contiguous
  };
  write_safetensors(dir.file("a.safetensors"), tensors);
  SafetensorsFile file(dir.file("a.safetensors"));
  EXPECT_EQ(file.header().metadata.at("format"), "pt");
  EXPECT_EQ(file.header().data_start % 8, 0u);
  ASSERT_EQ(file.header().tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    torch::Tensor back = file.tensor(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(back.equal(t)) << name;
  }
  EXPECT_EQ(file.entry("bf16").dtype, "BF16");
  UPM_EXPECT_THROW_WITH(file.entry("nope"), InputError, "nope: no such tensor");
}

TEST(Safetensors, MisalignedDataIsCopiedNotMisread) {
  // A hand-made header of odd length puts the F32 data at an odd address.
  std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} )";
  std::string bytes = file_bytes(header, 8);
  float values[2] = {1.5f, -2.25f};
  std::memcpy(&bytes[8 + header.size()], values, 8);
  TempDir dir;
  write_file_atomic(dir.file("m.safetensors"), bytes);
  SafetensorsFile file(dir.file("m.safetensors"));
  torch::Tensor t = file.tensor("x");
  EXPECT_FLOAT_EQ(t[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(t[1].item<float>(), -2.25f);
}

TEST(Safetensors, RejectsInconsistentHeadersByName) {
  auto expect_error = [](const std::string& header, size_t data, const std::string& needle) {
    UPM_EXPECT_THROW_WITH(parse(file_bytes(header, data)), InputError, needle);
  };
  expect_error("[1,2]", 0, "must be a JSON object");
  expect_error("{\"a\":", 0, "not valid JSON");
  expect_error(R"({"w":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}})", 4, "w: safetensors header: unknown dtype");
  expect_error(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, "non-negative");
  expect_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4, "needs 8");
  expect_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 4, "beyond the data buffer");
  expect_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8, "begin > end");
  expect_error(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4, "overflows");
  expect_error(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      12, "overlaps tensor \"a\"");
  expect_error(R"({"w":{"dtype":"F32","shape":[1]}})", 4, "data_offsets");
  expect_error(R"({"__metadata__":{"format":1}})", 0, "__metadata__.format");
  expect_error(std::string(40, '[') + std::string(40, ']'), 0, "nested too deeply");
  UPM_EXPECT_THROW_WITH(parse("abc"), InputError, "too short");
  std::string huge_length = file_bytes("{}", 0);
  huge_length[7] = char(0x7f);
  UPM_EXPECT_THROW_WITH(parse(huge_length), InputError, "too large");
  std::string past_end = file_bytes("{}", 0);
  past_end[0] = 100;
  UPM_EXPECT_THROW_WITH(parse(past_end), InputError, "exceeds the file");
}

// Thousands of random and mutated headers: each parses or is an InputError,
// never a crash or another exception (run under UPM_SANITIZE=1 for memory errors).
TEST(Safetensors, SurvivesRandomAndMutatedHeaders) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {{"model.embed_tokens.weight", torch::randn({4, 3})},
                                                                {"ids", torch::arange(5)},
                                                                {"b", torch::ones({2}, torch::kBFloat16)}};
  TempDir dir;
  write_safetensors(dir.file("seed.safetensors"), tensors);
  const std::string seed = read_file(dir.file("seed.safetensors"));
  std::mt19937 rng(1234);
  const std::string alphabet = "{}[]\":,0123456789-eE.FIU8BOL_ \\x";
  int parsed = 0, rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string bytes = seed;
    const int mutations = 1 + int(rng() % 6);
    for (int m = 0; m < mutations; ++m) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 5) {
        case 0: bytes[at] = char(rng()); break;
        case 1: bytes[at] = alphabet[rng() % alphabet.size()]; break;
        case 2: bytes.erase(at, 1 + rng() % 8); break;
        case 3: bytes.insert(at, 1 + rng() % 4, alphabet[rng() % alphabet.size()]); break;
        case 4: bytes.resize(at); break;
      }
      if (bytes.empty()) bytes = "x";
    }
    if (round % 10 == 0) {  // pure noise, with a plausible length prefix half the time
      bytes.assign(rng() % 64, '\0');
      for (auto& c : bytes) c = char(rng());
      if (bytes.size() >= 8 && rng() % 2) std::memset(&bytes[1], 0, 7);
    }
    try {
      parse(bytes);
      ++parsed;
    } catch (const InputError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(parsed, 10);  // mutations of padding or data keep valid files
}

TEST(SafetensorsFolder, ShardsAboveTheLimitAndReadsBack) {
  TempDir dir;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (int i = 0; i < 5; ++i) tensors.emplace_back("t" + std::to_string(i), torch::randn({10, 10}));  // 400 B each
  auto files = write_safetensors_folder(dir.path(), tensors, 1000);
  ASSERT_EQ(files.size(), 4u);  // 3 shards (2+2+1 tensors) + index
  EXPECT_EQ(files[0], "model-00001-of-00003.safetensors");
  EXPECT_EQ(files[3], "model.safetensors.index.json");
  auto index = read_json_file(dir.file("model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], 2000);
  EXPECT_EQ(index["weight_map"]["t4"], "model-00003-of-00003.safetensors");
  SafetensorsFolder folder(dir.path());
  EXPECT_EQ(folder.file_count(), 3u);
  for (const auto& [name, t] : tensors) EXPECT_TRUE(folder.tensor(name).equal(t)) << name;

  // Re-saved small: one file, and the stale index is gone.
  write_safetensors_folder(dir.path(), tensors, 1u << 20);
  EXPECT_FALSE(std::filesystem::exists(dir.file("model.safetensors.index.json")));
  EXPECT_EQ(SafetensorsFolder(dir.path()).file_count(), 1u);
}

TEST(SafetensorsFolder, RejectsInconsistentIndexes) {
  TempDir dir;
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"a", torch::ones({100})}, {"b", torch::ones({100})}, {"c", torch::ones({100})}};
  write_safetensors_folder(dir.path(), tensors, 1000);  // shards {a, b} and {c}
  auto index = read_json_file(dir.file("model.safetensors.index.json"));
  auto write_index = [&](const nlohmann::json& j) {
    write_file_atomic(dir.file("model.safetensors.index.json"), j.dump());
  };

  auto bad = index;
  bad["weight_map"]["a"] = "../escape.safetensors";
  write_index(bad);
  UPM_EXPECT_THROW_WITH(SafetensorsFolder{dir.path()}, InputError,
                        "weight_map.a: must be a file name inside the folder");
  bad = index;
  bad["weight_map"]["c"] = "model-00001-of-00002.safetensors";
  write_index(bad);
  UPM_EXPECT_THROW_WITH(SafetensorsFolder{dir.path()}, InputError,
                        "c: tensor listed in the index is missing from the shard");
  bad = index;
  bad["weight_map"].erase("b");
  write_index(bad);
  UPM_EXPECT_THROW_WITH(SafetensorsFolder{dir.path()}, InputError, "b: tensor not listed in");
  bad = index;
  bad["weight_map"]["c"] = "model-00009-of-00002.safetensors";
  write_index(bad);
  UPM_EXPECT_THROW_WITH(SafetensorsFolder{dir.path()}, InputError, "cannot open");
  TempDir empty;
  UPM_EXPECT_THROW_WITH(SafetensorsFolder{empty.path()}, InputError, "no model.safetensors");
}

}  // namespace
}  // namespace upm::test
