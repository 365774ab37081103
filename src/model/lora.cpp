#include "upm/model/lora.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/model/safetensors.h"

namespace upm {

void describe(ConfigIO& io, LoraConfig& c) {
  io.field("enabled", c.enabled);
  io.field("rank", c.rank).at_least(1);
  io.field("alpha", c.alpha).greater_than(0.0);
  io.field("dropout", c.dropout).at_least(0.0).at_most(0.99);
  io.field("target_modules", c.target_modules);
  if (io.reading() && c.target_modules.empty()) io.fail("target_modules", "must name at least one module");
}

class LoraAdapter : public LinearAdapter {
 public:
  LoraAdapter(const Linear& base, int64_t rank, double scale, double dropout) : scale(scale), dropout(dropout) {
    const auto options = base.weight.options();
    A = torch::zeros({rank, base.weight.size(1)}, options).requires_grad_(true);
    B = torch::zeros({base.weight.size(0), rank}, options).requires_grad_(true);
  }
  torch::Tensor forward(const torch::Tensor& x) const override {
    torch::Tensor h = training && dropout > 0.0 ? torch::dropout(x, dropout, true) : x;
    return torch::linear(torch::linear(h, A), B) * scale;  // [.., out]
  }
  torch::Tensor A, B;  // [r, in], [out, r]
  double scale, dropout;
  bool training = false;
};

namespace {

const char* kPrefix = "base_model.model.";

std::string last_component(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

nlohmann::json adapter_config_json(const LoraConfig& c, const std::string& base_model) {
  return {{"peft_type", "LORA"},
          {"task_type", "CAUSAL_LM"},
          {"base_model_name_or_path", base_model},
          {"r", c.rank},
          {"lora_alpha", c.alpha},
          {"lora_dropout", c.dropout},
          {"target_modules", c.target_modules},
          {"bias", "none"},
          {"fan_in_fan_out", false},
          {"inference_mode", true},
          {"init_lora_weights", true},
          {"use_rslora", false},
          {"modules_to_save", nullptr}};
}

LoraConfig lora_config_from_json(const nlohmann::json& j, const std::string& source) {
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key)) throw InputError(Location{source, 0, key}, "required but missing");
    return j[key];
  };
  if (j.value("peft_type", "") != "LORA") throw InputError(Location{source, 0, "peft_type"}, "must be \"LORA\"");
  if (j.value("use_rslora", false)) throw InputError(Location{source, 0, "use_rslora"}, "rsLoRA is not supported");
  // PEFT options that change what the adapter computes or where it applies:
  // ignoring them would compute something else than PEFT does.
  for (const char* key : {"use_dora", "lora_bias", "fan_in_fan_out"}) {
    if (j.contains(key) && !j[key].is_null() && j[key] != false) {
      throw InputError(Location{source, 0, key}, "must be false (not supported)");
    }
  }
  for (const char* key :
       {"rank_pattern", "alpha_pattern", "layers_to_transform", "exclude_modules", "modules_to_save",
        "layer_replication", "target_parameters", "trainable_token_indices", "alora_invocation_tokens"}) {
    if (j.contains(key) && !j[key].is_null() && !j[key].empty()) {
      throw InputError(Location{source, 0, key}, "must be null or empty (not supported)");
    }
  }
  if (j.contains("bias") && j["bias"] != "none") throw InputError(Location{source, 0, "bias"}, "must be \"none\"");
  if (j.contains("target_modules") && j["target_modules"].is_string()) {
    throw InputError(Location{source, 0, "target_modules"}, "a regular expression is not supported; list module names");
  }
  LoraConfig c;
  c.enabled = true;
  try {
    c.rank = need("r").get<int64_t>();
    c.alpha = need("lora_alpha").get<double>();
    c.dropout = j.value("lora_dropout", 0.0);
    c.target_modules = need("target_modules").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(Location{source, 0, ""}, std::string("bad adapter config: ") + e.what());
  }
  if (c.rank < 1) throw InputError(Location{source, 0, "r"}, "must be >= 1");
  return c;
}

}  // namespace

Lora::Lora(CausalLM& model, const LoraConfig& config) : model_(model), config_(config) {}

Lora::Lora(CausalLM& model, const LoraConfig& config, uint64_t seed) : Lora(model, config) { attach(seed, true); }

Lora::~Lora() = default;

void Lora::attach(uint64_t seed, bool init) {
  std::set<std::string> targets(config_.target_modules.begin(), config_.target_modules.end());
  std::set<std::string> matched;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double scale = config_.alpha / double(config_.rank);
  torch::NoGradGuard no_grad;
  for (const auto& item : model_.named_modules("", /*include_self=*/false)) {
    auto linear = std::dynamic_pointer_cast<Linear>(item.value());
    const std::string name = last_component(item.key());
    if (!linear || !targets.count(name)) continue;
    matched.insert(name);
    auto adapter = std::make_shared<LoraAdapter>(*linear, config_.rank, scale, config_.dropout);
    if (init) {
      // PEFT: kaiming_uniform_(A, a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); drawn in fp32 on the CPU.
      const double bound = 1.0 / std::sqrt(double(linear->weight.size(1)));
      adapter->A.copy_(torch::empty(adapter->A.sizes(), torch::kFloat).uniform_(-bound, bound, generator));
    }
    linear->adapter = adapter;
    adapters_.emplace_back(item.key(), adapter);
    params_.emplace_back(kPrefix + item.key() + ".lora_A.weight", adapter->A);
    params_.emplace_back(kPrefix + item.key() + ".lora_B.weight", adapter->B);
  }
  for (const auto& t : targets) {
    if (!matched.count(t)) {
      throw InputError(Location{"lora", 0, "target_modules"}, "no Linear layer of the model is named \"" + t + "\"");
    }
  }
  for (auto& p : model_.parameters()) p.set_requires_grad(false);
}

std::unique_ptr<Lora> Lora::load(CausalLM& model, const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string weights_path = (fs::path(dir) / "adapter_model.safetensors").string();
  LoraConfig config = lora_config_from_json(parse_json_text(read_file(config_path), config_path), config_path);
  std::unique_ptr<Lora> lora(new Lora(model, config));
  lora->attach(0, false);
  SafetensorsFile file(weights_path);
  std::set<std::string> expected;
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : lora->params_) {
    expected.insert(name);
    if (!file.contains(name)) throw InputError(Location{weights_path, 0, name}, "missing");
    torch::Tensor t = file.tensor(name);
    if (t.sizes() != param.sizes()) throw InputError(Location{weights_path, 0, name}, "wrong shape");
    param.copy_(t);
  }
  for (const auto& [name, entry] : file.header().tensors) {
    if (!expected.count(name)) throw InputError(Location{weights_path, 0, name}, "unused (no such adapter here)");
  }
  return lora;
}

void Lora::train(bool on) {
  for (auto& [path, adapter] : adapters_) adapter->training = on;
}

void Lora::save(const std::string& dir, const std::string& base_model) const {
  namespace fs = std::filesystem;
  make_directories(dir);
  write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), params_);
  write_file_atomic((fs::path(dir) / "adapter_config.json").string(),
                    adapter_config_json(config_, base_model).dump(2) + "\n");
}

void Lora::merge_and_detach() {
  torch::NoGradGuard no_grad;
  for (const auto& item : model_.named_modules("", false)) {
    auto linear = std::dynamic_pointer_cast<Linear>(item.value());
    if (!linear || !linear->adapter) continue;
    auto adapter = std::dynamic_pointer_cast<LoraAdapter>(linear->adapter);
    if (!adapter) continue;
    // In fp32, rounded once into the weight's dtype.
    torch::Tensor delta = torch::matmul(adapter->B.to(torch::kFloat), adapter->A.to(torch::kFloat)) * adapter->scale;
    linear->weight.copy_(linear->weight.to(torch::kFloat) + delta);
  }
  detach();
}

void Lora::set_enabled(bool on) {
  for (const auto& item : model_.named_modules("", /*include_self=*/false)) {
    auto linear = std::dynamic_pointer_cast<Linear>(item.value());
    if (!linear) continue;
    for (const auto& [path, adapter] : adapters_) {
      if (path == item.key()) linear->adapter = on ? adapter : nullptr;
    }
  }
}

void Lora::detach() {
  for (const auto& item : model_.named_modules("", false)) {
    if (auto linear = std::dynamic_pointer_cast<Linear>(item.value())) linear->adapter.reset();
  }
  adapters_.clear();
  params_.clear();
  for (auto& p : model_.parameters()) p.set_requires_grad(true);
}

}  // namespace upm
