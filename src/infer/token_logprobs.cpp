#include "upm/infer/token_logprobs.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/infer/padded_batch.h"
#include "upm/model/causal_lm.h"

namespace upm {

namespace {

std::vector<std::vector<float>> score_batch(CausalLM& model, const std::vector<std::vector<int64_t>>& sequences) {
  PaddedBatch batch = pad_sequences(sequences, PadSide::right);
  ForwardInput in;
  in.input_ids = batch.ids;
  in.attention_mask = batch.mask;
  torch::Tensor logits = model.forward(in).logits;  // [B, T, V]
  const int64_t T = batch.ids.size(1);
  std::vector<std::vector<float>> out(sequences.size());
  if (T < 2) return out;
  // log p(next) = logit(next) - logsumexp(logits), in fp32.
  torch::Tensor lf = logits.narrow(1, 0, T - 1).to(torch::kFloat);
  torch::Tensor next = batch.ids.narrow(1, 1, T - 1).to(lf.device()).unsqueeze(-1);
  torch::Tensor lp = (lf.gather(-1, next).squeeze(-1) - lf.logsumexp(-1)).to(torch::kCPU);
  auto acc = lp.accessor<float, 2>();
  for (size_t b = 0; b < sequences.size(); ++b) {
    for (int64_t i = 0; i + 1 < int64_t(sequences[b].size()); ++i) out[b].push_back(acc[b][i]);
  }
  return out;
}

}  // namespace

std::vector<std::vector<float>> token_logprobs(CausalLM& model, const std::vector<std::vector<int64_t>>& sequences,
                                               const ScoreOptions& options) {
  c10::InferenceMode inference;
  for (size_t s = 0; s < sequences.size(); ++s) {
    check_token_ids(sequences[s], model.config().vocab_size, "sequence " + std::to_string(s));
  }
  std::vector<std::vector<float>> out;
  const size_t step = size_t(std::max<int64_t>(1, options.max_batch_sequences));
  for (size_t start = 0; start < sequences.size(); start += step) {
    std::vector<std::vector<int64_t>> chunk(sequences.begin() + start,
                                            sequences.begin() + std::min(sequences.size(), start + step));
    for (auto& row : score_batch(model, chunk)) out.push_back(std::move(row));
  }
  return out;
}

}  // namespace upm
