// Import of the tiny llama, qwen2 and qwen3 GGUFs that
// tools/reference/gguf_reference.py writes as llama.cpp's converter would
// (llama q/k rows permuted, qwen2 biases, qwen3 q/k norms and tied embeddings,
// F32/F16/BF16/Q8_0/Q4_1 weights, a byte-level BPE vocabulary with added
// tokens, a chat template),
// against what transformers makes of the same file; and `upm-model
// import-gguf` as a user runs it, on good and damaged files.
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "gguf_test_util.h"
#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/model/gguf_import.h"
#include "upm/model/model_config.h"
#include "upm/text/chat_template.h"

namespace upm::test {
namespace {

using nlohmann::json;

json tiny_expected(const std::string& family) {
  return json::parse(read_file(gguf_data("tiny_" + family + ".expected.json")));
}

TEST(GgufTinyImportParity, TensorsTokensAndLogitsEqualTransformers) {
  for (const std::string family : {"llama", "qwen2", "qwen3"}) {
    SCOPED_TRACE(family);
    TempDir dir;
    import_gguf(gguf_data("tiny_" + family + ".gguf"), dir.path());
    json expected = tiny_expected(family);
    expect_tensors_equal(dir.path(), expected["tensors"]);
    auto tokenizer = load_tokenizer(dir.path());
    // No decode check: the text layer decodes a non-special added token that
    // is also in the vocabulary ("café", USER_DEFINED) through the byte
    // alphabet (to "caf\xE9") where transformers writes its content.
    expect_token_ids(*tokenizer, expected["tokens"].get<std::vector<json>>(), false);
    // Where transformers' GGUF tokenizer drops a USER_DEFINED token, the
    // import follows llama.cpp and the tokenizer the file was made from.
    expect_token_ids(*tokenizer, expected["source_tokens"].get<std::vector<json>>());
    // Tiny models: fp32 differences are at rounding level.
    expect_last_logits(dir.path(), expected["logits"], 1e-4);

    ModelConfig loaded = load_model_config(dir.path());
    EXPECT_EQ(loaded.model_type, family);
    EXPECT_EQ(loaded.num_key_value_heads, 2);
    EXPECT_EQ(loaded.head_dim, family == "qwen3" ? 128 : 8);  // qwen3: attention.key_length
    EXPECT_EQ(loaded.rms_norm_eps, 1e-5);  // the float32 in the file, written as the decimal it came from
    EXPECT_EQ(loaded.tie_word_embeddings, family == "qwen3");
    EXPECT_EQ(loaded.attention_bias, family == "qwen2");
    EXPECT_EQ(loaded.qk_norm, family == "qwen3");
    EXPECT_EQ(loaded.bos_token_id, 856);
    EXPECT_EQ(loaded.vocab_size, 865);
    ChatTemplate chat = ChatTemplate::for_model(dir.path());
    ChatOptions options;
    options.add_generation_prompt = true;
    EXPECT_EQ(chat.render({{"user", "hi"}}, options), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  }
}

TEST(GgufImportTool, WritesFoldersUpmLoadsInFp32AndBf16) {
  TempDir dir;
  ToolResult fp32 =
      run_tool("upm-model", "import-gguf --input " + gguf_data("tiny_llama.gguf") + " --output " + dir.file("fp32"));
  ASSERT_EQ(fp32.code, 0) << fp32.output;
  ToolResult bf16 = run_tool("upm-model", "import-gguf --input " + gguf_data("tiny_llama.gguf") + " --output " +
                                              dir.file("bf16") + " --dtype bf16");
  ASSERT_EQ(bf16.code, 0) << bf16.output;
  for (const char* file :
       {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("bf16/") + file))) << file;
  EXPECT_EQ(load_model_config(dir.file("bf16")).torch_dtype, "bfloat16");
  SafetensorsFolder full(dir.file("fp32")), half(dir.file("bf16"));
  for (const std::string& name : full.names()) {
    ASSERT_EQ(half.tensor(name).scalar_type(), torch::kBFloat16) << name;
    EXPECT_TRUE(torch::equal(half.tensor(name), full.tensor(name).to(torch::kBFloat16))) << name;
  }
  ModelRuntime runtime;
  runtime.dtype = "auto";
  EXPECT_NO_THROW(load_pretrained(dir.file("bf16"), runtime));
}

// Writes `bytes` with `edit` applied to a file in `dir` and returns its path.
std::string damaged_copy(const TempDir& dir, const std::string& name, std::string bytes,
                         const std::function<void(std::string&)>& edit) {
  edit(bytes);
  std::ofstream(dir.file(name), std::ios::binary) << bytes;
  return dir.file(name);
}

TEST(GgufImportTool, DamagedFilesExitTwoNamingTheProblem) {
  TempDir dir;
  std::string good = read_file(gguf_data("tiny_llama.gguf"));
  auto import = [&](const std::string& path) {
    return run_tool("upm-model", "import-gguf --input " + path + " --output " + dir.file("out"));
  };
  struct Case {
    std::string file, needle;
    std::function<void(std::string&)> edit;
  };
  std::vector<Case> cases = {
      {"truncated.gguf", "blk.1.ffn_down.weight: GGUF: truncated file",
       [](std::string& b) { b.resize(b.size() - 100); }},
      {"header_cut.gguf", "truncated file", [](std::string& b) { b.resize(2000); }},
      {"unknown_type.gguf", "blk.0.attn_v.weight: GGUF: unknown ggml type 77",
       [](std::string& b) {
         uint32_t type = 77;
         std::memcpy(&b[gguf_record_after_name(b, "blk.0.attn_v.weight") + 4 + 16], &type, 4);
       }},
      {"wrong_shape.gguf", "blk.0.ffn_down.weight: GGUF: wrong shape: [64, 32]",
       [](std::string& b) {  // F32 [64, 32] in ggml order -> [32, 64]: same bytes, PyTorch shape [64, 32]
         size_t dims = gguf_record_after_name(b, "blk.0.ffn_down.weight") + 4;
         uint64_t a, c;
         std::memcpy(&a, &b[dims], 8);
         std::memcpy(&c, &b[dims + 8], 8);
         std::memcpy(&b[dims], &c, 8);
         std::memcpy(&b[dims + 8], &a, 8);
       }},
      {"bert_vocab.gguf", "tokenizer.ggml.model: GGUF: tokenizer \"bert\" is not supported",
       [](std::string& b) {  // the value of tokenizer.ggml.model: u32 type, u64 length, "gpt2"
         size_t at = b.find("tokenizer.ggml.model") + std::string("tokenizer.ggml.model").size() + 4 + 8;
         ASSERT_EQ(b.substr(at, 4), "gpt2");
         b.replace(at, 4, "bert");
       }},
      {"no_arch.gguf", "general.architecture: GGUF: missing key",
       [](std::string& b) {  // rename the key
         size_t at = b.find("general.architecture");
         b[at] = 'G';
       }},
  };
  for (const Case& c : cases) {
    ToolResult r = import(damaged_copy(dir, c.file, good, c.edit));
    EXPECT_EQ(r.code, 2) << c.file << "\n" << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.file << "\n" << r.output;
    EXPECT_NE(r.output.find(c.file), std::string::npos) << "the message names the file\n" << r.output;
  }
  ToolResult not_a_model = import(gguf_data("quant_types.gguf"));
  EXPECT_EQ(not_a_model.code, 2);
  EXPECT_NE(not_a_model.output.find("llama.embedding_length: GGUF: missing key"), std::string::npos)
      << not_a_model.output;
}

}  // namespace
}  // namespace upm::test
