#include "upm/model/weights_loader.h"

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <torch/torch.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/log.h"

namespace upm {

namespace {

std::string shape_text(c10::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Tensors a checkpoint may carry that hold nothing to load: old Llama exports
// saved the rotary inverse frequencies; a tied model may still store lm_head.
bool ignorable(const std::string& name, const ModelConfig& config) {
  return ends_with(name, "rotary_emb.inv_freq") || (config.tie_word_embeddings && name == "lm_head.weight");
}

void check_tensor(const SafetensorsEntry& entry, const torch::Tensor& param, const std::string& name,
                  std::vector<std::string>& problems) {
  if (entry.dtype != "F32" && entry.dtype != "F16" && entry.dtype != "BF16" && entry.dtype != "F64") {
    problems.push_back(name + ": dtype " + entry.dtype + " is not a floating-point weight");
  } else if (c10::IntArrayRef(entry.shape) != param.sizes()) {
    problems.push_back(name + ": wrong shape; expected " + shape_text(param.sizes()) + ", got " +
                       shape_text(entry.shape));
  }
}

[[noreturn]] void report(const std::string& dir, const std::vector<std::string>& problems) {
  std::string text = std::to_string(problems.size()) + " problem(s) with the weights:";
  const size_t shown = std::min<size_t>(problems.size(), 20);
  for (size_t i = 0; i < shown; ++i) text += "\n  " + problems[i];
  if (shown < problems.size()) text += "\n  ...";
  throw InputError(Location{dir, 0, ""}, text);
}

}  // namespace

void load_weights(CausalLM& model, const std::string& dir) {
  SafetensorsFolder folder(dir);
  std::vector<std::string> problems;
  std::set<std::string> expected;
  auto params = model.hf_tensors();
  for (auto& [name, param] : params) {
    expected.insert(name);
    if (!folder.contains(name)) {
      problems.push_back(name + ": missing");
    } else {
      check_tensor(folder.entry(name), param, name, problems);
    }
  }
  for (const auto& name : folder.names()) {
    if (!expected.count(name) && !ignorable(name, model.config()))
      problems.push_back(name + ": unused (not a parameter of this model)");
  }
  if (!problems.empty()) report(dir, problems);

  torch::NoGradGuard no_grad;
  for (auto& [name, param] : params) param.copy_(folder.tensor(name));
}

std::shared_ptr<CausalLM> load_pretrained(const std::string& dir, const ModelRuntime& runtime) {
  ModelConfig config = load_model_config(dir);
  auto model = std::make_shared<CausalLM>(config, runtime, InitMode::empty);
  load_weights(*model, dir);
  spdlog::debug("loaded {} ({} layers, {} parameters) on {} as {}", dir, config.num_hidden_layers,
                parameter_count(config), model->device().str(), dtype_name(model->dtype()));
  return model;
}

void save_pretrained(const CausalLM& model, const std::string& dir, const SaveOptions& options) {
  make_directories(dir);
  ModelConfig config = model.config();
  config.torch_dtype = dtype_name(model.dtype());
  write_safetensors_folder(dir, model.hf_tensors(), options.max_shard_bytes);
  nlohmann::json generation = options.generation_config;
  if (generation.is_null()) {
    generation = {{"_from_model_config", true}};
    if (!config.bos_token_id.is_null()) generation["bos_token_id"] = config.bos_token_id;
    if (!config.eos_token_id.is_null()) generation["eos_token_id"] = config.eos_token_id;
  }
  namespace fs = std::filesystem;
  write_file_atomic((fs::path(dir) / "generation_config.json").string(), generation.dump(2) + "\n");
  // config.json last: its presence marks a complete folder.
  write_file_atomic((fs::path(dir) / "config.json").string(), model_config_to_json(config).dump(2) + "\n");
}

}  // namespace upm
