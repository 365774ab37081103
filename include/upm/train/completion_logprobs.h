#pragma once
// Per-token log-probs of sampled completions after their prompts, under the
// model being trained (with autograd) or a frozen one (under no-grad): the
// new-policy and reference terms of the GRPO ratio and KL.
//
// One decoder pass over right-padded rows. Rows with the same prompt (a GRPO
// group of G samples) are packed into one row, the prompt once and each
// completion after it seeing only the prompt and itself (CausalLM
// segment_ids): the prompt's pass, the bulk of the work when prompts are long
// and completions short, runs once per group instead of G times. The LM head
// runs only at the positions that predict a completion token. Log-probs
// are log_softmax of the raw logits in fp32, the same distribution the
// generator reports for sampled tokens (before temperature and filters).

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace upm {

class CausalLM;

struct CompletionRef {
  const std::vector<int64_t>* prompt = nullptr;      // non-empty
  const std::vector<int64_t>* completion = nullptr;  // may be empty (no token trained)
};

struct CompletionLogprobs {
  torch::Tensor logprobs;  // [B, Tc] fp32, 0 beyond each completion's length
  torch::Tensor mask;      // [B, Tc] fp32, 1 on completion tokens
  torch::Tensor entropy;   // [B, Tc] fp32, only when asked for (differentiable when entropy_grad)
};

// with_entropy: also the entropy of each predicting position's distribution;
// entropy_grad: keep it in the autograd graph (the GRPO entropy bonus);
// share_prompts false: one row per completion (the same values; for tests and
// benchmarks).
CompletionLogprobs completion_logprobs(CausalLM& model, const std::vector<CompletionRef>& rows,
                                       bool with_entropy = false, bool entropy_grad = false, bool share_prompts = true);

// The mask alone (no model pass): [B, Tc] fp32 on `device`.
torch::Tensor completion_mask(const std::vector<CompletionRef>& rows, const c10::Device& device);

// Per-row token values (e.g. the sampler's log-probs) as a [B, Tc] fp32 tensor, 0-padded.
torch::Tensor pad_token_values(const std::vector<const std::vector<float>*>& rows, const c10::Device& device);

}  // namespace upm
