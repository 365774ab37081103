#pragma once
// Which implementation computes attention in Attention::forward (prefill,
// scoring, training). The names are transformers' attn_implementation values.
//
//   sdpa   at::scaled_dot_product_attention (the default). On the CPU its
//          flash kernel (fp32, bf16) works on blocks of keys with an online
//          softmax, forward and backward: no B x heads x queries x keys score
//          matrix is ever held, so training memory grows with the sequence,
//          not with its square. Grouped-query heads are passed as they are
//          (enable_gqa); the additive fp32 mask is passed as it is, or, for a
//          plain causal pass (no padding, no segments, no cache), no mask at
//          all (is_causal, which also skips the blocks above the diagonal).
//   eager  the explicit form: scores by matmul, the mask added and softmax
//          taken in fp32, probabilities by matmul. It holds the whole score
//          matrix (sliced by query rows without autograd:
//          attention_chunking.h). Kept as the reference the sdpa path is
//          tested against, for the shared-prefix path (see attention.cpp) and
//          for inputs where SDPA would pick its math backend, which also
//          materialises the scores.
//
// Decode steps that take the fused kernels (decode_fusion.h) use neither.
// Chosen per model: ModelRuntime::attention, CausalLM::set_attention_kernel.

#include <cstdint>
#include <string>

namespace upm {

enum class AttentionKernel { sdpa, eager };

// "sdpa" / "eager"; InputError naming the field for anything else.
AttentionKernel attention_kernel_from_name(const std::string& name);
std::string attention_kernel_name(AttentionKernel kernel);

// Attention::forward calls that went through SDPA, since the process started
// (for tests: the sdpa path is taken where it should be).
int64_t attention_sdpa_passes();

}  // namespace upm
