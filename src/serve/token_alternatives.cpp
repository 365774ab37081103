#include "upm/serve/token_alternatives.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/infer/padded_batch.h"
#include "upm/infer/prefix_sharing.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"

namespace upm::serve {

namespace {

// logits [L, V] predicting `targets` (L ids) -> one PositionAlternatives each.
std::vector<PositionAlternatives> read_positions(const torch::Tensor& logits, const std::vector<int64_t>& targets,
                                                 int64_t k) {
  torch::Tensor lp = logits.to(torch::kFloat).log_softmax(-1);
  torch::Tensor target = torch::tensor(targets, torch::kLong).to(lp.device()).unsqueeze(-1);
  torch::Tensor chosen = lp.gather(-1, target).squeeze(-1).to(torch::kCPU).contiguous();
  std::vector<PositionAlternatives> out(targets.size());
  auto chosen_acc = chosen.accessor<float, 1>();
  for (size_t j = 0; j < targets.size(); ++j) out[j].chosen = chosen_acc[j];
  if (k <= 0) return out;
  auto top = lp.topk(std::min<int64_t>(k, lp.size(-1)), -1);  // sorted, most likely first
  torch::Tensor values = std::get<0>(top).to(torch::kCPU).contiguous();
  torch::Tensor ids = std::get<1>(top).to(torch::kCPU).contiguous();
  auto v = values.accessor<float, 2>();
  auto i = ids.accessor<int64_t, 2>();
  for (size_t j = 0; j < targets.size(); ++j) {
    for (int64_t r = 0; r < values.size(1); ++r) out[j].top.emplace_back(i[j][r], v[j][r]);
  }
  return out;
}

}  // namespace

std::vector<std::vector<PositionAlternatives>> token_alternatives(
    CausalLM& model, const std::vector<int64_t>& prompt, const std::vector<std::vector<int64_t>>& continuations,
    int64_t k) {
  c10::InferenceMode inference;
  const int64_t vocab = model.config().vocab_size;
  check_token_ids(prompt, vocab, "prompt");
  for (const auto& c : continuations) check_token_ids(c, vocab, "continuation");
  if (continuations.empty()) return {};
  const int64_t rows = int64_t(continuations.size());
  PaddedBatch batch = pad_sequences(continuations, PadSide::right);
  const int64_t T = batch.ids.size(1);
  KVCache cache(model.config(), rows, int64_t(prompt.size()) + T, model.dtype(), model.device());

  // The prompt once: its last logits predict every continuation's first token.
  ForwardInput in;
  in.input_ids = torch::tensor(prompt, torch::kLong).view({1, -1});
  in.cache = &cache;
  in.logits_for = LogitsFor::last;
  torch::Tensor first = model.forward(in).logits[0];  // [1, V]
  fan_out_prefixes(cache, {rows});

  // Continuations after it (right-padded): position j's hidden state predicts token j+1.
  torch::Tensor hidden;
  if (T > 1) {
    in.input_ids = batch.ids;
    in.attention_mask = batch.mask;
    in.logits_for = LogitsFor::none;
    hidden = model.forward(in).hidden;  // [rows, T, H]
  }
  std::vector<std::vector<PositionAlternatives>> out;
  for (int64_t c = 0; c < rows; ++c) {
    const auto& tokens = continuations[size_t(c)];
    const int64_t L = int64_t(tokens.size());
    // One row at a time keeps the logits at [L, V] (vocabularies run to 150k).
    torch::Tensor logits = first;
    if (L > 1) logits = torch::cat({first, model.logits(hidden[c].narrow(0, 0, L - 1))}, 0);
    out.push_back(read_positions(logits, tokens, k));
  }
  return out;
}

}  // namespace upm::serve
