#include "upm/model/model_config.h"

#include <filesystem>

#include "upm/core/config.h"
#include "upm/core/error.h"

namespace upm {

namespace {

// Typed access to the keys of one config.json object, with errors that name
// the file and the key.
class HfFields {
 public:
  HfFields(const nlohmann::json& json, std::string source, std::string prefix = "")
      : json_(json), source_(std::move(source)), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return json_.contains(key) && !json_[key].is_null(); }

  [[noreturn]] void fail(const char* key, const std::string& problem) const {
    throw InputError(Location{source_, 0, prefix_ + key}, problem);
  }

  int64_t integer(const char* key, int64_t fallback, bool required = false) const {
    if (!has(key)) {
      if (required) fail(key, "required but missing");
      return fallback;
    }
    const auto& v = json_[key];
    if (!v.is_number_integer()) fail(key, std::string("expected an integer, got ") + v.type_name());
    return v.get<int64_t>();
  }
  int64_t positive(const char* key, int64_t fallback, bool required = false) const {
    int64_t v = integer(key, fallback, required);
    if (v <= 0) fail(key, "must be > 0, got " + std::to_string(v));
    return v;
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const auto& v = json_[key];
    if (!v.is_number()) fail(key, std::string("expected a number, got ") + v.type_name());
    return v.get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = json_[key];
    if (!v.is_boolean()) fail(key, std::string("expected true or false, got ") + v.type_name());
    return v.get<bool>();
  }
  std::string text(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const auto& v = json_[key];
    if (!v.is_string()) fail(key, std::string("expected a string, got ") + v.type_name());
    return v.get<std::string>();
  }

 private:
  const nlohmann::json& json_;
  std::string source_;
  std::string prefix_;
};

// One rope scaling object: the legacy "rope_scaling" or transformers 5's
// "rope_parameters" (which also holds rope_theta); `prefix` names it in errors.
RopeScaling read_rope_scaling(const nlohmann::json& rs, const std::string& source, const std::string& prefix) {
  RopeScaling out;
  HfFields f(rs, source, prefix + ".");
  // transformers writes "rope_type"; older configs "type".
  const char* type_key = f.has("rope_type") ? "rope_type" : "type";
  out.type = f.text(type_key, "default");
  if (out.type != "default" && out.type != "linear" && out.type != "llama3") {
    f.fail(type_key, "unsupported rope scaling \"" + out.type + "\" (supported: default, linear, llama3)");
  }
  out.factor = f.number("factor", 1.0);
  if (out.type != "default" && !(out.factor >= 1.0)) f.fail("factor", "must be >= 1");
  if (out.type == "llama3") {
    out.low_freq_factor = f.number("low_freq_factor", 1.0);
    out.high_freq_factor = f.number("high_freq_factor", 4.0);
    out.original_max_position_embeddings = f.positive("original_max_position_embeddings", 8192, true);
    if (!(out.high_freq_factor > out.low_freq_factor)) {
      f.fail("high_freq_factor", "must be > low_freq_factor");
    }
  }
  return out;
}

const nlohmann::json* rope_object(const nlohmann::json& json, const std::string& source, const char* key) {
  if (!json.contains(key) || json[key].is_null()) return nullptr;
  const auto& v = json[key];
  if (!v.is_object()) {
    throw InputError(Location{source, 0, key}, std::string("expected an object or null, got ") + v.type_name());
  }
  return &v;
}

// rope_theta and rope scaling. transformers >= 5 writes both inside
// "rope_parameters"; older configs have a top-level "rope_theta" and
// "rope_scaling". rope_parameters wins where both are present, as in
// transformers.
void read_rope(const nlohmann::json& json, const std::string& source, ModelConfig& c) {
  HfFields top(json, source);
  c.rope_theta = top.number("rope_theta", 10000.0);
  if (const nlohmann::json* rp = rope_object(json, source, "rope_parameters")) {
    for (const auto& [key, value] : rp->items()) {
      if (value.is_object()) {
        throw InputError(Location{source, 0, "rope_parameters." + key},
                         "per-layer-type rope parameters are not supported");
      }
    }
    c.rope_theta = HfFields(*rp, source, "rope_parameters.").number("rope_theta", c.rope_theta);
    c.rope_scaling = read_rope_scaling(*rp, source, "rope_parameters");
  } else if (const nlohmann::json* rs = rope_object(json, source, "rope_scaling")) {
    c.rope_scaling = read_rope_scaling(*rs, source, "rope_scaling");
  }
}

// Settings UPM does not implement: refusing them beats computing something else.
void reject_unsupported(const HfFields& f, const ModelConfig& c) {
  std::string act = f.text("hidden_act", "silu");
  if (act != "silu") f.fail("hidden_act", "unsupported activation \"" + act + "\" (only silu)");
  if (f.boolean("use_sliding_window", false)) f.fail("use_sliding_window", "sliding-window attention is not supported");
  if (f.boolean("mlp_bias", false)) f.fail("mlp_bias", "MLP biases are not supported");
  if (f.number("partial_rotary_factor", 1.0) != 1.0)
    f.fail("partial_rotary_factor", "partial rotary embeddings are not supported");
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    f.fail("num_key_value_heads", "must divide num_attention_heads (" + std::to_string(c.num_attention_heads) +
                                      "), got " + std::to_string(c.num_key_value_heads));
  }
  if (c.head_dim % 2 != 0) f.fail("head_dim", "must be even for rotary embeddings");
  if (!(c.rms_norm_eps > 0)) f.fail("rms_norm_eps", "must be > 0");
  if (!(c.rope_theta > 0)) f.fail("rope_theta", "must be > 0");
}

}  // namespace

ModelConfig model_config_from_json(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object()) throw InputError(Location{source, 0, ""}, "config.json must be a JSON object");
  HfFields f(json, source);
  ModelConfig c;
  c.model_type = f.text("model_type", "");
  if (c.model_type != "llama" && c.model_type != "qwen2" && c.model_type != "qwen3") {
    f.fail("model_type", "unsupported model type \"" + c.model_type + "\" (supported: llama, qwen2, qwen3)");
  }
  c.vocab_size = f.positive("vocab_size", 0, true);
  c.hidden_size = f.positive("hidden_size", 0, true);
  c.intermediate_size = f.positive("intermediate_size", 0, true);
  c.num_hidden_layers = f.positive("num_hidden_layers", 0, true);
  c.num_attention_heads = f.positive("num_attention_heads", 0, true);
  c.num_key_value_heads = f.positive("num_key_value_heads", c.num_attention_heads);
  if (!f.has("head_dim") && c.hidden_size % c.num_attention_heads != 0) {
    f.fail("num_attention_heads", "must divide hidden_size when head_dim is not given");
  }
  c.head_dim = f.positive("head_dim", c.hidden_size / c.num_attention_heads);
  c.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
  read_rope(json, source, c);
  c.max_position_embeddings = f.positive("max_position_embeddings", 2048);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  // Qwen2 always has q/k/v biases (its config has no key for it).
  c.attention_bias = c.model_type == "qwen2" ? true : f.boolean("attention_bias", false);
  c.qk_norm = c.model_type == "qwen3";
  // transformers >= 4.56 writes "dtype" instead of "torch_dtype".
  c.torch_dtype = f.text("torch_dtype", f.text("dtype", "float32"));
  if (c.torch_dtype != "float32" && c.torch_dtype != "bfloat16" && c.torch_dtype != "float16") {
    f.fail(f.has("torch_dtype") ? "torch_dtype" : "dtype",
           "unsupported dtype \"" + c.torch_dtype + "\" (supported: float32, bfloat16, float16)");
  }
  c.initializer_range = f.number("initializer_range", 0.02);
  if (json.contains("bos_token_id")) c.bos_token_id = json["bos_token_id"];
  if (json.contains("eos_token_id")) c.eos_token_id = json["eos_token_id"];
  reject_unsupported(f, c);
  return c;
}

ModelConfig load_model_config(const std::string& path) {
  std::string file = path;
  if (std::filesystem::is_directory(path)) file = (std::filesystem::path(path) / "config.json").string();
  return model_config_from_json(read_json_file(file), file);
}

namespace {
const char* architecture_name(const std::string& model_type) {
  if (model_type == "qwen2") return "Qwen2ForCausalLM";
  if (model_type == "qwen3") return "Qwen3ForCausalLM";
  return "LlamaForCausalLM";
}
}  // namespace

nlohmann::json model_config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["architectures"] = {architecture_name(c.model_type)};
  j["model_type"] = c.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type == "none") {
    j["rope_scaling"] = nullptr;
  } else {
    nlohmann::json rs = {{"rope_type", c.rope_scaling.type}, {"factor", c.rope_scaling.factor}};
    if (c.rope_scaling.type == "llama3") {
      rs["low_freq_factor"] = c.rope_scaling.low_freq_factor;
      rs["high_freq_factor"] = c.rope_scaling.high_freq_factor;
      rs["original_max_position_embeddings"] = c.rope_scaling.original_max_position_embeddings;
    }
    j["rope_scaling"] = rs;
  }
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.model_type != "qwen2") j["attention_bias"] = c.attention_bias;
  j["attention_dropout"] = 0.0;
  j["initializer_range"] = c.initializer_range;
  j["torch_dtype"] = c.torch_dtype;
  j["use_cache"] = true;
  if (c.model_type != "llama") j["use_sliding_window"] = false;
  if (!c.bos_token_id.is_null()) j["bos_token_id"] = c.bos_token_id;
  if (!c.eos_token_id.is_null()) j["eos_token_id"] = c.eos_token_id;
  return j;
}

int64_t parameter_count(const ModelConfig& c) {
  const int64_t h = c.hidden_size;
  int64_t attention = h * c.q_size() + 2 * h * c.kv_size() + c.q_size() * h;
  if (c.attention_bias) attention += c.q_size() + 2 * c.kv_size();
  if (c.qk_norm) attention += 2 * c.head_dim;
  const int64_t mlp = 3 * h * c.intermediate_size;
  const int64_t layer = attention + mlp + 2 * h;  // + input/post-attention norms
  const int64_t embeddings = c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2);
  return embeddings + c.num_hidden_layers * layer + h;  // + final norm
}

}  // namespace upm
