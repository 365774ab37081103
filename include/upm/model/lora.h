#pragma once
// LoRA (Hu et al. 2021) adapters on the decoder's Linear layers, saved and
// loaded in PEFT's layout so that a PEFT-trained adapter loads here and ours
// load in PEFT:
//   adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout",
//                               "target_modules", "base_model_name_or_path", ...}
//   adapter_model.safetensors  base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight [r, in]
//                              base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight [out, r]
// y = W x + (alpha / r) * B A dropout(x). A starts as PEFT's kaiming-uniform
// (bound 1/sqrt(in)), B as zeros, so a fresh adapter leaves the model unchanged.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/core/config.h"
#include "upm/model/causal_lm.h"

namespace upm {

struct LoraConfig {
  bool enabled = false;
  int64_t rank = 8;
  double alpha = 16.0;
  double dropout = 0.0;
  // Last component of the Linear's name (PEFT's matching): q_proj, k_proj, v_proj,
  // o_proj, gate_proj, up_proj, down_proj.
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj"};
};
void describe(ConfigIO& io, LoraConfig& c);

class LoraAdapter;

// The adapters attached to one model. The model's own weights are frozen
// (requires_grad off) while adapters are attached.
class Lora {
 public:
  // Attaches fresh adapters (seeded init) to every targeted Linear of `model`.
  Lora(CausalLM& model, const LoraConfig& config, uint64_t seed);
  // Attaches the adapters of a PEFT folder (adapter_config.json decides rank,
  // alpha and targets); strict: missing, unused or mis-shaped tensors are errors.
  static std::unique_ptr<Lora> load(CausalLM& model, const std::string& dir);
  ~Lora();

  // PEFT tensor name -> trainable parameter (lora_A then lora_B per module).
  const std::vector<std::pair<std::string, torch::Tensor>>& parameters() const { return params_; }
  const LoraConfig& config() const { return config_; }
  // Dropout is applied only while training.
  void train(bool on);

  // adapter_config.json + adapter_model.safetensors into `dir` (atomic files).
  void save(const std::string& dir, const std::string& base_model) const;
  // W += (alpha / r) B A in every targeted Linear, then detaches the adapters:
  // the model alone now computes what model + adapters did.
  void merge_and_detach();
  // Removes the adapters without merging.
  void detach();
  // Off: the model computes the base alone (the adapters stay, untouched);
  // on: they are back. RL's reference policy is the base with adapters off.
  void set_enabled(bool on);

 private:
  Lora(CausalLM& model, const LoraConfig& config);
  void attach(uint64_t seed, bool init);

  CausalLM& model_;
  LoraConfig config_;
  std::vector<std::pair<std::string, std::shared_ptr<LoraAdapter>>> adapters_;  // module path -> adapter
  std::vector<std::pair<std::string, torch::Tensor>> params_;
};

}  // namespace upm
