#include "upm/train/optimizer.h"

#include <cmath>
#include <map>

#include <torch/torch.h>

#include "upm/core/error.h"

namespace upm {

void describe(ConfigIO& io, AdamWConfig& c) {
  io.field("lr", c.lr).greater_than(0.0);
  io.field("beta1", c.beta1).at_least(0.0).at_most(0.9999999);
  io.field("beta2", c.beta2).at_least(0.0).at_most(0.9999999);
  io.field("eps", c.eps).greater_than(0.0);
  io.field("weight_decay", c.weight_decay).at_least(0.0);
  io.field("max_grad_norm", c.max_grad_norm).at_least(0.0);
}

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

bool decays(const std::string& name) { return !(ends_with(name, "norm.weight") || ends_with(name, ".bias")); }

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const AdamWConfig& config)
    : params_(std::move(params)), config_(config) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, p] : params_) {
    Slot slot;
    slot.decay = decays(name);
    slot.has_master = p.scalar_type() != torch::kFloat;
    slot.master = slot.has_master ? p.detach().to(torch::kFloat).clone() : p.detach();
    slot.exp_avg = torch::zeros_like(slot.master);
    slot.exp_avg_sq = torch::zeros_like(slot.master);
    slots_.push_back(std::move(slot));
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bias1 = 1.0 - std::pow(config_.beta1, double(steps_));
  const double bias2 = 1.0 - std::pow(config_.beta2, double(steps_));
  const double step_size = lr / bias1;
  const double bias2_sqrt = std::sqrt(bias2);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    Slot& s = slots_[i];
    torch::Tensor grad = p.grad().to(torch::kFloat);
    if (s.decay && config_.weight_decay != 0.0) s.master.mul_(1.0 - lr * config_.weight_decay);
    s.exp_avg.mul_(config_.beta1).add_(grad, 1.0 - config_.beta1);
    s.exp_avg_sq.mul_(config_.beta2).addcmul_(grad, grad, 1.0 - config_.beta2);
    torch::Tensor denom = (s.exp_avg_sq.sqrt() / bias2_sqrt).add_(config_.eps);
    s.master.addcdiv_(s.exp_avg, denom, -step_size);
    if (s.has_master) p.copy_(s.master);
  }
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    out.emplace_back("exp_avg." + name, slots_[i].exp_avg);
    out.emplace_back("exp_avg_sq." + name, slots_[i].exp_avg_sq);
    if (slots_[i].has_master) out.emplace_back("master." + name, slots_[i].master);
  }
  return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state, int64_t steps,
                       const std::string& source) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  torch::NoGradGuard no_grad;
  auto take = [&](const std::string& name, torch::Tensor& into) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw InputError(Location{source, 0, name}, "missing from the optimizer state");
    if (it->second.sizes() != into.sizes()) throw InputError(Location{source, 0, name}, "wrong shape");
    into.copy_(it->second);
    by_name.erase(it);
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    take("exp_avg." + name, slots_[i].exp_avg);
    take("exp_avg_sq." + name, slots_[i].exp_avg_sq);
    if (slots_[i].has_master) {
      take("master." + name, slots_[i].master);
      params_[i].second.copy_(slots_[i].master);
    }
  }
  if (!by_name.empty()) {
    throw InputError(Location{source, 0, by_name.begin()->first}, "not a parameter being trained");
  }
  steps_ = steps;
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params) {
    if (p.grad().defined()) norms.push_back(p.grad().to(torch::kFloat).norm(2));
  }
  if (norms.empty()) return 0.0;
  torch::Tensor total = torch::stack(norms).norm(2);
  if (max_norm > 0.0) {
    // The coefficient as a clamped fp32 tensor, exactly as PyTorch computes it.
    torch::Tensor coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(coef.to(p.grad().scalar_type()));
    }
  }
  return total.item<double>();
}

}  // namespace upm
