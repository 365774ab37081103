#include "upm/model/gguf_config.h"

#include <charconv>
#include <cstdlib>

#include "upm/core/error.h"

namespace upm {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& problem) {
  throw InputError(Location{source, 0, key}, "GGUF: " + problem);
}

int64_t positive(const GgufHeader& header, const std::string& key, const std::string& source) {
  uint64_t value = gguf_required_unsigned(header, key, source);
  if (value == 0 || value > (1ull << 40)) fail(source, key, "must be a positive count, got " + std::to_string(value));
  return static_cast<int64_t>(value);
}

double number(const GgufHeader& header, const std::string& key, const std::string& source, double fallback) {
  const GgufValue* value = header.find(key);
  if (!value) return fallback;
  if (value->type == GgufValueType::kFloat32) return gguf_float_value(*value);
  return *gguf_number(header, key, source);
}

int64_t vocab_size(const GgufHeader& header, const std::string& arch, const std::string& source) {
  if (header.find(arch + ".vocab_size")) return positive(header, arch + ".vocab_size", source);
  if (const GgufValue* tokens = header.find("tokenizer.ggml.tokens"); tokens && !tokens->items.empty())
    return static_cast<int64_t>(tokens->items.size());
  if (const GgufTensorInfo* embed = header.find_tensor("token_embd.weight"); embed && embed->dims.size() == 2)
    return static_cast<int64_t>(embed->dims[1]);
  fail(source, arch + ".vocab_size", "missing key (and no tokenizer.ggml.tokens or token_embd.weight to count)");
}

nlohmann::json token_id(const GgufHeader& header, const std::string& key, const std::string& source) {
  auto id = gguf_unsigned(header, key, source);
  return id ? nlohmann::json(*id) : nlohmann::json();
}

}  // namespace

double gguf_float_value(const GgufValue& value) {
  if (value.type != GgufValueType::kFloat32) return value.number;
  char text[64];
  auto result = std::to_chars(text, text + sizeof(text), static_cast<float>(value.number));
  *result.ptr = '\0';
  return std::strtod(text, nullptr);
}

ModelConfig model_config_from_gguf(const GgufHeader& header, const std::string& source,
                                   const std::string& torch_dtype) {
  ModelConfig c;
  std::string arch = gguf_required_string(header, "general.architecture", source);
  if (arch != "llama" && arch != "qwen2" && arch != "qwen3")
    fail(source, "general.architecture", "unsupported architecture \"" + arch + "\" (supported: llama, qwen2, qwen3)");
  const std::string p = arch + ".";
  c.model_type = arch;
  c.hidden_size = positive(header, p + "embedding_length", source);
  c.num_hidden_layers = positive(header, p + "block_count", source);
  c.intermediate_size = positive(header, p + "feed_forward_length", source);
  c.num_attention_heads = positive(header, p + "attention.head_count", source);
  c.num_key_value_heads = header.find(p + "attention.head_count_kv")
                              ? positive(header, p + "attention.head_count_kv", source)
                              : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(source, p + "attention.head_count_kv", "must divide " + p + "attention.head_count");
  c.max_position_embeddings = positive(header, p + "context_length", source);
  c.vocab_size = vocab_size(header, arch, source);

  if (header.find(p + "attention.key_length")) {
    c.head_dim = positive(header, p + "attention.key_length", source);
    if (header.find(p + "attention.value_length") &&
        positive(header, p + "attention.value_length", source) != c.head_dim)
      fail(source, p + "attention.value_length", "must equal " + p + "attention.key_length");
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      fail(source, p + "attention.head_count", "must divide " + p + "embedding_length when no key_length is given");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (header.find(p + "rope.dimension_count") && positive(header, p + "rope.dimension_count", source) != c.head_dim)
    fail(source, p + "rope.dimension_count",
         "partial rotary embeddings are not supported (rotary dims " +
             std::to_string(*gguf_unsigned(header, p + "rope.dimension_count", source)) + ", head dim " +
             std::to_string(c.head_dim) + ")");

  c.rope_theta = number(header, p + "rope.freq_base", source, 10000.0);
  if (!(c.rope_theta > 0)) fail(source, p + "rope.freq_base", "must be > 0");
  const GgufValue* eps = header.find(p + "attention.layer_norm_rms_epsilon");
  if (!eps) fail(source, p + "attention.layer_norm_rms_epsilon", "missing key");
  c.rms_norm_eps = number(header, p + "attention.layer_norm_rms_epsilon", source, 0.0);
  if (!(c.rms_norm_eps > 0)) fail(source, p + "attention.layer_norm_rms_epsilon", "must be > 0");

  std::string scaling = gguf_string(header, p + "rope.scaling.type", source).value_or("none");
  if (scaling == "linear") {
    c.rope_scaling.type = "linear";
    c.rope_scaling.factor = number(header, p + "rope.scaling.factor", source, 1.0);
    if (!(c.rope_scaling.factor >= 1.0)) fail(source, p + "rope.scaling.factor", "must be >= 1");
  } else if (scaling != "none") {
    fail(source, p + "rope.scaling.type", "unsupported rope scaling \"" + scaling + "\" (supported: none, linear)");
  }

  c.tie_word_embeddings = header.find_tensor("output.weight") == nullptr;
  c.attention_bias = arch == "qwen2" || header.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.qk_norm = arch == "qwen3";
  c.torch_dtype = torch_dtype;
  c.bos_token_id = token_id(header, "tokenizer.ggml.bos_token_id", source);
  c.eos_token_id = token_id(header, "tokenizer.ggml.eos_token_id", source);
  return c;
}

}  // namespace upm
