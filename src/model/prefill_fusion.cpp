#include "upm/model/prefill_fusion.h"

#include <atomic>
#include <cstdint>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include "bf16_rows.h"
#include "cpu_kernel_util.h"

namespace upm {
namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> flag{!env_switched_off("UPM_FUSED_PREFILL")};
  return flag;
}

}  // namespace

void set_fused_prefill_enabled(bool on) { enabled_flag().store(on); }
bool fused_prefill_enabled() { return enabled_flag().load(); }

bool fused_prefill_applies(std::initializer_list<at::Tensor> tensors) {
  if (!fused_prefill_enabled()) return false;
  const bool grad = at::GradMode::is_enabled();
  for (const at::Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (t.scalar_type() != at::kBFloat16 || !t.device().is_cpu()) return false;
    if (grad && t.requires_grad()) return false;
  }
  return true;
}

at::Tensor fused_silu_mul(const at::Tensor& gate_in, const at::Tensor& up_in) {
  const at::Tensor gate = gate_in.contiguous(), up = up_in.contiguous();
  at::Tensor out = at::empty(gate.sizes(), gate.options());
  const auto* gp = reinterpret_cast<const uint16_t*>(gate.data_ptr<at::BFloat16>());
  const auto* upp = reinterpret_cast<const uint16_t*>(up.data_ptr<at::BFloat16>());
  auto* op = reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>());
  // torch's grain for elementwise ops: a thread is woken for 32k elements.
  at::parallel_for(0, gate.numel(), int64_t(1) << 15, [&](int64_t begin, int64_t end) {
    bf16_silu_mul(gp + begin, upp + begin, end - begin, op + begin);
  });
  return out;
}

}  // namespace upm
