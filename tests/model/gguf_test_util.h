#pragma once
// Shared by the GGUF import tests: comparisons of an imported folder with the
// goldens transformers wrote (tools/reference/gguf_reference.py and
// gguf_import_reference.py).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "upm/model/causal_lm.h"
#include "upm/model/safetensors_folder.h"
#include "upm/model/weights_loader.h"
#include "upm/text/tokenizer.h"
#include "test_paths.h"

namespace upm::test {

inline std::string gguf_data(const std::string& name) { return upm::test::test_data_dir() + "/model/gguf/" + name; }

// Offset just past tensor `name`'s name in its GGUF tensor record (u64
// length + bytes); n_dims (u32), dims (u64 each), type (u32) and data offset
// (u64) follow.
inline size_t gguf_record_after_name(const std::string& bytes, const std::string& name) {
  uint64_t length = name.size();
  std::string needle(reinterpret_cast<const char*>(&length), 8);
  needle += name;
  size_t pos = bytes.find(needle);
  EXPECT_NE(pos, std::string::npos) << name;
  return pos + needle.size();
}

// Sum over i of bits[i] * (2i + 1) mod 2^64 of the float32 bit patterns, as
// the reference scripts compute it: any one changed element changes it.
inline uint64_t float_bits_checksum(const torch::Tensor& tensor) {
  torch::Tensor t = tensor.to(torch::kFloat).contiguous();
  const auto* bits = reinterpret_cast<const uint32_t*>(t.data_ptr<float>());
  uint64_t sum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) sum += static_cast<uint64_t>(bits[i]) * (2 * static_cast<uint64_t>(i) + 1);
  return sum;
}

// Every tensor of `expected` ({name: {shape, checksum, first}}) and no other
// is in the folder, bit for bit.
inline void expect_tensors_equal(const std::string& dir, const nlohmann::json& expected) {
  SafetensorsFolder folder(dir);
  EXPECT_EQ(folder.names().size(), expected.size());
  for (const auto& [name, want] : expected.items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(folder.contains(name));
    torch::Tensor got = folder.tensor(name);
    EXPECT_EQ(got.scalar_type(), torch::kFloat);
    EXPECT_EQ(got.sizes().vec(), want["shape"].get<std::vector<int64_t>>());
    auto first = want["first"].get<std::vector<float>>();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(got.view(-1)[i].item<float>(), first[i]) << "element " << i;
    EXPECT_EQ(std::to_string(float_bits_checksum(got)), want["checksum"].get<std::string>());
  }
}

// Each {text, ids} row encodes to its ids (specials added as the tokenizer's
// post-processor says) and, with `round_trip`, decodes back to its text.
inline void expect_token_ids(const Tokenizer& tokenizer, const std::vector<nlohmann::json>& rows,
                             bool round_trip = true) {
  for (const nlohmann::json& row : rows) {
    std::string text = row["text"];
    auto ids = row["ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(tokenizer.encode(text, true), ids) << text;
    if (round_trip) EXPECT_EQ(tokenizer.decode(ids), text);
  }
}

// Last-position logits of each prompt ({ids, top_ids, top_logits,
// logsumexp}) within `tolerance`, and the same top token.
inline void expect_last_logits(const std::string& dir, const nlohmann::json& prompts, double tolerance) {
  ModelRuntime runtime;
  runtime.dtype = "float32";
  auto lm = load_pretrained(dir, runtime);
  torch::NoGradGuard no_grad;
  for (const nlohmann::json& prompt : prompts) {
    auto ids = prompt["ids"].get<std::vector<int64_t>>();
    ForwardInput input;
    input.input_ids = torch::tensor(ids, torch::kLong).unsqueeze(0);
    torch::Tensor logits = lm->forward(input).logits[0][-1].to(torch::kFloat);
    auto top_ids = prompt["top_ids"].get<std::vector<int64_t>>();
    auto top_logits = prompt["top_logits"].get<std::vector<double>>();
    double maxdiff = 0;
    for (size_t k = 0; k < top_ids.size(); ++k)
      maxdiff = std::max(maxdiff, std::abs(logits[top_ids[k]].item<double>() - top_logits[k]));
    double lse = torch::logsumexp(logits, 0).item<double>();
    std::printf("prompt of %zu tokens: top-%zu logits maxdiff %.3g, logsumexp %.6f vs %.6f\n", ids.size(),
                top_ids.size(), maxdiff, lse, prompt["logsumexp"].get<double>());
    EXPECT_LT(maxdiff, tolerance);
    EXPECT_NEAR(lse, prompt["logsumexp"].get<double>(), tolerance);
    EXPECT_EQ(logits.argmax().item<int64_t>(), top_ids[0]);
  }
}

}  // namespace upm::test
