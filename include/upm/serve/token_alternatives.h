#pragma once
// Log-probs of generated tokens and their most likely alternatives (the
// OpenAI `logprobs` / `top_logprobs` answer), recomputed teacher-forced from
// the prompt and each continuation: fp32 log_softmax of the model's raw
// logits, the same numbers infer's score_options / token_logprobs give.
// The prompt is computed once (one cache row fanned out to the continuations).

#include <cstdint>
#include <utility>
#include <vector>

namespace upm {
class CausalLM;
}

namespace upm::serve {

struct PositionAlternatives {
  float chosen = 0;                            // log p(the generated token)
  std::vector<std::pair<int64_t, float>> top;  // k most likely (id, log p), most likely first
};

// out[c][j]: position j of continuation c. Continuations must be non-empty.
std::vector<std::vector<PositionAlternatives>> token_alternatives(
    CausalLM& model, const std::vector<int64_t>& prompt, const std::vector<std::vector<int64_t>>& continuations,
    int64_t k);

}  // namespace upm::serve
