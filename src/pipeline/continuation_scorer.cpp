#include "upm/pipeline/continuation_scorer.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/infer/padded_batch.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"

namespace upm {

namespace {

using Scores = std::vector<std::vector<std::vector<float>>>;

// Scores groups [first, last) together; rows are laid out group after group.
void score_chunk(CausalLM& model, const std::vector<ContinuationGroup>& groups, size_t first, size_t last,
                 Scores& out) {
  std::vector<std::vector<int64_t>> contexts;
  std::vector<int64_t> group_slot;  // the first row of each group holds its context
  std::vector<const std::vector<int64_t>*> rows;
  size_t longest = 1;
  for (size_t g = first; g < last; ++g) {
    contexts.push_back(groups[g].context);
    group_slot.push_back(int64_t(rows.size()));
    for (const auto& c : groups[g].continuations) {
      rows.push_back(&c);
      longest = std::max(longest, c.size());
    }
  }
  const int64_t R = int64_t(rows.size());
  PaddedBatch prefill = pad_sequences(contexts, PadSide::left);
  const int64_t context_length = prefill.ids.size(1);
  KVCache cache(model.config(), R, context_length + int64_t(longest), model.dtype(), model.device());

  // Prefill: each context once; its last position predicts every continuation's first token.
  ForwardInput in;
  in.input_ids = prefill.ids.to(model.device());
  in.attention_mask = prefill.mask.to(model.device());
  in.cache = &cache;
  in.slots = group_slot;
  in.logits_for = LogitsFor::last;
  torch::Tensor first_lp = torch::log_softmax(model.forward(in).logits.select(1, 0).to(torch::kFloat), -1)
                               .to(torch::kCPU);  // [G, V]
  auto first_acc = first_lp.accessor<float, 2>();

  std::vector<int64_t> row_group(R);
  for (size_t g = 0; g + first < last; ++g) {
    const int64_t count = int64_t(groups[first + g].continuations.size());
    for (int64_t k = 0; k < count; ++k) {
      row_group[group_slot[g] + k] = int64_t(g);
      if (k > 0) cache.copy_prefix(group_slot[g], group_slot[g] + k, context_length);
    }
  }
  for (int64_t r = 0; r < R; ++r) {
    out[first + row_group[r]].push_back({first_acc[row_group[r]][(*rows[r])[0]]});
  }
  if (longest < 2) return;

  // Continuations minus their last token (whose prediction nobody needs),
  // right-padded: row r's token i predicts its token i+1.
  const int64_t T = int64_t(longest) - 1;
  torch::Tensor ids = torch::zeros({R, T}, torch::kLong);
  torch::Tensor mask = torch::zeros({R, T}, torch::kLong);
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t i = 0; i + 1 < int64_t(rows[r]->size()); ++i) {
      ids[r][i] = (*rows[r])[i];
      mask[r][i] = 1;
    }
  }
  ForwardInput step;
  step.input_ids = ids.to(model.device());
  step.attention_mask = mask.to(model.device());
  step.cache = &cache;
  torch::Tensor lp = torch::log_softmax(model.forward(step).logits.to(torch::kFloat), -1).to(torch::kCPU);  // [R, T, V]
  auto acc = lp.accessor<float, 3>();
  std::vector<int64_t> seen(last - first, 0);
  for (int64_t r = 0; r < R; ++r) {
    const int64_t g = row_group[r];
    std::vector<float>& row = out[first + g][seen[g]++];
    for (int64_t i = 0; i + 1 < int64_t(rows[r]->size()); ++i) row.push_back(acc[r][i][(*rows[r])[i + 1]]);
  }
}

}  // namespace

Scores score_continuations(CausalLM& model, const std::vector<ContinuationGroup>& groups,
                           const ContinuationScoreOptions& options) {
  c10::InferenceMode inference;
  const int64_t vocab = model.config().vocab_size;
  for (size_t g = 0; g < groups.size(); ++g) {
    check_token_ids(groups[g].context, vocab, "context " + std::to_string(g));
    if (groups[g].continuations.empty()) throw InputError("group " + std::to_string(g) + " has no continuations");
    for (size_t c = 0; c < groups[g].continuations.size(); ++c) {
      check_token_ids(groups[g].continuations[c], vocab,
                      "continuation " + std::to_string(c) + " of group " + std::to_string(g));
    }
  }
  Scores out(groups.size());
  size_t first = 0;
  while (first < groups.size()) {
    size_t last = first, rows = 0;
    do {
      rows += groups[last].continuations.size();
      ++last;
    } while (last < groups.size() && int64_t(rows + groups[last].continuations.size()) <= options.max_batch_rows);
    score_chunk(model, groups, first, last, out);
    first = last;
  }
  return out;
}

}  // namespace upm
