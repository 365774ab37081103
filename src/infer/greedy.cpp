#include "upm/infer/greedy.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/infer/padded_batch.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"

namespace upm {

std::vector<std::vector<int64_t>> greedy_generate(CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                                  const GreedyOptions& options) {
  c10::InferenceMode inference;
  const int64_t B = int64_t(prompts.size());
  std::vector<std::vector<int64_t>> out(B);
  if (B == 0 || options.max_new_tokens <= 0) return out;
  for (int64_t b = 0; b < B; ++b) check_token_ids(prompts[b], model.config().vocab_size, "prompt " + std::to_string(b));

  PaddedBatch batch = pad_sequences(prompts, PadSide::left);
  KVCache cache(model.config(), B, batch.ids.size(1) + options.max_new_tokens, model.dtype(), model.device());
  ForwardInput in;
  in.input_ids = batch.ids;
  in.attention_mask = batch.mask;
  in.cache = &cache;
  in.logits_for = LogitsFor::last;

  std::vector<bool> done(B, false);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    torch::Tensor next = model.forward(in).logits.select(1, 0).argmax(-1).to(torch::kCPU);  // [B]
    auto next_ids = next.accessor<int64_t, 1>();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      out[b].push_back(next_ids[b]);
      const auto& stops = options.stop_ids;
      done[b] = std::find(stops.begin(), stops.end(), next_ids[b]) != stops.end();
      all_done &= done[b];
    }
    if (all_done || step + 1 == options.max_new_tokens) break;
    // Finished rows keep stepping (one batch shape) but as masked padding.
    torch::Tensor mask = torch::ones({B, 1}, torch::kLong);
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) mask[b][0] = 0;
    }
    in.input_ids = next.view({B, 1});
    in.attention_mask = mask;
  }
  return out;
}

}  // namespace upm
