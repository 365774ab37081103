#pragma once
// AdamW over named parameters, with fp32 state whatever the weights' dtype.
//
// Math: torch.optim.AdamW (decoupled decay p -= lr*wd*p, then the Adam step
// with bias corrections), so that a step equals PyTorch's to rounding.
// Param groups: no weight decay on norms and biases (names ending in
// "norm.weight" or ".bias"), decay on everything else (embeddings included,
// as transformers' Trainer does).
// Low-precision weights (bf16/fp16): the optimizer keeps an fp32 master copy
// of each, applies the step to the master and writes the rounded result back
// into the model; fp32 weights are their own master (no copy). Gradients are
// read in fp32.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/core/config.h"

namespace upm {

struct AdamWConfig {
  double lr = 2e-5;  // peak learning rate (the schedule multiplies it)
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;   // applied to decayed params only
  double max_grad_norm = 1.0;  // global-norm clipping; 0 = off
};
void describe(ConfigIO& io, AdamWConfig& c);

// Does this HF parameter name get weight decay?
bool decays(const std::string& name);

class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const AdamWConfig& config);

  // One update with learning rate `lr` (already scheduled). Params whose grad
  // is undefined are skipped (and their step count is not advanced).
  void step(double lr);
  void zero_grad();

  int64_t steps() const { return steps_; }
  const std::vector<std::pair<std::string, torch::Tensor>>& params() const { return params_; }

  // State as named fp32 tensors: "exp_avg.NAME", "exp_avg_sq.NAME",
  // "master.NAME" (low-precision weights only); load_state checks every name
  // and shape and writes masters back into the weights.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state, int64_t steps,
                  const std::string& source);

 private:
  struct Slot {
    torch::Tensor master, exp_avg, exp_avg_sq;
    bool has_master = false;
    bool decay = true;
  };
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::vector<Slot> slots_;
  AdamWConfig config_;
  int64_t steps_ = 0;
};

// torch.nn.utils.clip_grad_norm_: the global L2 norm of all grads (fp32),
// and grads scaled by max_norm / (norm + 1e-6) when that is < 1. max_norm <= 0
// only measures. Returns the norm before clipping.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace upm
