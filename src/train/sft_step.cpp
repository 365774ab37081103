#include "upm/train/sft_step.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/model/causal_lm.h"
#include "upm/dist/process_group.h"
#include "upm/train/optimizer.h"

namespace upm {

SftBatch collate_sft(const std::vector<const SftExample*>& examples, const c10::Device& device) {
  if (examples.empty()) throw Error("collate_sft: empty batch");
  const int64_t B = int64_t(examples.size());
  int64_t T = 0;
  for (const auto* ex : examples) T = std::max<int64_t>(T, int64_t(ex->ids.size()));
  torch::Tensor ids = torch::zeros({B, T}, torch::kLong);
  torch::Tensor mask = torch::zeros({B, T}, torch::kLong);
  torch::Tensor targets = torch::zeros({B, T}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  auto targets_a = targets.accessor<bool, 2>();
  SftBatch batch;
  for (int64_t b = 0; b < B; ++b) {
    const SftExample& ex = *examples[b];
    for (size_t t = 0; t < ex.ids.size(); ++t) {
      ids_a[b][t] = ex.ids[t];
      mask_a[b][t] = 1;
      targets_a[b][t] = t > 0 && ex.target[t];
    }
    batch.tokens += int64_t(ex.ids.size());
    batch.target_tokens += ex.target_count();
  }
  batch.input_ids = ids.to(device);
  batch.attention_mask = mask.to(device);
  batch.targets = targets.to(device);
  return batch;
}

torch::Tensor target_nll_sum(CausalLM& model, const SftBatch& batch) {
  ForwardInput in;
  in.input_ids = batch.input_ids;
  in.attention_mask = batch.attention_mask;
  in.logits_for = LogitsFor::none;
  return target_nll_from_hidden(model, model.forward(in).hidden, batch.input_ids, batch.targets);
}

torch::Tensor target_nll_from_hidden(CausalLM& model, const torch::Tensor& hidden, const torch::Tensor& input_ids,
                                     const torch::Tensor& targets) {
  const int64_t T = hidden.size(1);
  // Position t predicts token t+1: pair hidden[:, :-1] with ids[:, 1:].
  torch::Tensor predicts = targets.narrow(1, 1, T - 1).reshape({-1});
  torch::Tensor rows = predicts.nonzero().squeeze(1);
  torch::Tensor h = hidden.narrow(1, 0, T - 1).reshape({-1, hidden.size(2)}).index_select(0, rows);
  torch::Tensor labels = input_ids.narrow(1, 1, T - 1).reshape({-1}).index_select(0, rows);
  torch::Tensor logits = model.logits(h).to(torch::kFloat);  // [N, V]
  return torch::nn::functional::cross_entropy(logits, labels,
                                              torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
}

StepStats sft_train_step(CausalLM& model, AdamW& optimizer, const std::vector<SftBatch>& micro_batches,
                         int64_t global_target_tokens, double lr, double max_grad_norm, Distributed* dist) {
  if (global_target_tokens <= 0) throw Error("sft_train_step: the global batch has no target token");
  StepStats stats;
  optimizer.zero_grad();
  double nll_sum = 0.0;
  for (const SftBatch& batch : micro_batches) {
    torch::Tensor nll = target_nll_sum(model, batch);
    (nll / double(global_target_tokens)).backward();
    nll_sum += nll.item<double>();
    stats.tokens += batch.tokens;
  }
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);
  all_reduce_grads(dist, params);
  nll_sum = sum_over_ranks(dist, {nll_sum})[0];
  stats.loss = nll_sum / double(global_target_tokens);
  stats.grad_norm = clip_grad_norm(params, max_grad_norm);
  optimizer.step(lr);
  return stats;
}

}  // namespace upm
