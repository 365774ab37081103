#include "upm/train/grpo_update.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/core/random.h"
#include "upm/model/causal_lm.h"
#include "upm/train/batch_plan.h"
#include "upm/dist/process_group.h"
#include "upm/train/optimizer.h"

namespace upm {

namespace {

torch::Tensor rows_of(const torch::Tensor& t, const std::vector<int64_t>& rows, int64_t columns) {
  torch::Tensor index = torch::tensor(rows, torch::kLong).to(t.device());
  return t.index_select(0, index).narrow(1, 0, columns);
}

int64_t token_count(const GrpoUpdateInput& input, const std::vector<int64_t>& rows) {
  int64_t n = 0;
  for (int64_t r : rows) n += int64_t(input.rows[size_t(r)].completion->size());
  return n;
}

// For each row, the index of the first row with the same prompt (a GRPO
// group's samples share one prompt vector): the key that keeps groups
// together in micro-batches.
std::vector<int64_t> prompt_groups(const GrpoUpdateInput& input) {
  std::vector<int64_t> first(input.rows.size());
  for (size_t r = 0; r < input.rows.size(); ++r) {
    first[r] = int64_t(r);
    for (size_t q = 0; q < r; ++q) {
      if (input.rows[q].prompt == input.rows[r].prompt) {
        first[r] = int64_t(q);
        break;
      }
    }
  }
  return first;
}

// Running sums of one update's detached terms, token-weighted.
struct TermSums {
  double loss = 0, kl = 0, clip = 0, ratio = 0, tokens = 0, entropy = 0, entropy_tokens = 0;
};

// Forward + backward of one micro-batch; `weight` = its share of the minibatch.
void micro_step(CausalLM& policy, const GrpoUpdateInput& input, const std::vector<int64_t>& rows, double weight,
                const GrpoLossConfig& loss_config, bool want_entropy, TermSums& sums) {
  std::vector<CompletionRef> refs;
  for (int64_t r : rows) refs.push_back(input.rows[size_t(r)]);
  const bool bonus = loss_config.entropy_coef > 0.0;
  CompletionLogprobs now = completion_logprobs(policy, refs, want_entropy || bonus, bonus);
  const int64_t Tc = now.logprobs.size(1);
  torch::Tensor old_lp = rows_of(input.old_logprobs, rows, Tc);
  torch::Tensor ref_lp = input.ref_logprobs.defined() ? rows_of(input.ref_logprobs, rows, Tc) : torch::Tensor();
  torch::Tensor adv = input.advantages.index_select(0, torch::tensor(rows, torch::kLong).to(input.advantages.device()));
  GrpoLossTerms terms =
      grpo_loss(now.logprobs, old_lp, ref_lp, adv, now.mask, loss_config, bonus ? now.entropy : torch::Tensor());
  (terms.loss * weight).backward();
  const double tokens = now.mask.sum().item<double>();
  sums.loss += terms.loss.item<double>() * weight;
  sums.kl += terms.kl.item<double>() * tokens;
  sums.clip += terms.clip_fraction.item<double>() * tokens;
  sums.ratio += terms.ratio_mean.item<double>() * tokens;
  sums.tokens += tokens;
  if (want_entropy) {
    sums.entropy += (now.entropy.detach() * now.mask).sum().item<double>();
    sums.entropy_tokens += tokens;
  }
}

}  // namespace

torch::Tensor frozen_logprobs(CausalLM& model, const std::vector<CompletionRef>& rows, int64_t micro_batch_size) {
  torch::NoGradGuard no_grad;
  int64_t Tc = 1;
  for (const auto& r : rows) Tc = std::max<int64_t>(Tc, int64_t(r.completion->size()));
  torch::Tensor out =
      torch::zeros({int64_t(rows.size()), Tc}, torch::TensorOptions().dtype(torch::kFloat).device(model.device()));
  for (size_t start = 0; start < rows.size(); start += size_t(micro_batch_size)) {
    const size_t end = std::min(rows.size(), start + size_t(micro_batch_size));
    std::vector<CompletionRef> part(rows.begin() + long(start), rows.begin() + long(end));
    torch::Tensor lp = completion_logprobs(model, part).logprobs;
    out.narrow(0, int64_t(start), int64_t(end - start)).narrow(1, 0, lp.size(1)).copy_(lp);
  }
  return out;
}

GrpoUpdateStats grpo_update(CausalLM& policy, AdamW& optimizer, const GrpoUpdateInput& input,
                            const GrpoUpdateOptions& options, Distributed* dist) {
  const bool by_token = options.loss.aggregation == "token";
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);

  const std::vector<int64_t> group = prompt_groups(input);
  GrpoUpdateStats stats;
  TermSums sums;
  double grad_norm_sum = 0;
  for (int64_t pass = 0; pass < options.ppo_epochs; ++pass) {
    std::vector<int64_t> order(input.rows.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
    seeded_shuffle(order, sequence_seed(options.shuffle_seed, uint64_t(pass)));
    const size_t per_minibatch = (order.size() + size_t(options.minibatches) - 1) / size_t(options.minibatches);
    for (int64_t m = 0; m < options.minibatches; ++m) {
      const size_t begin = std::min(order.size(), size_t(m) * per_minibatch);
      const size_t end = std::min(order.size(), begin + per_minibatch);
      std::vector<int64_t> minibatch(order.begin() + long(begin), order.begin() + long(end));
      // Samples of one prompt side by side, so that micro-batches hold whole
      // groups and completion_logprobs computes each prompt once. The update
      // is a sum over the minibatch: the order changes only rounding.
      std::stable_sort(minibatch.begin(), minibatch.end(),
                       [&](int64_t a, int64_t b) { return group[size_t(a)] < group[size_t(b)]; });
      const double local = by_token ? double(token_count(input, minibatch)) : double(minibatch.size());
      const double global = sum_over_ranks(dist, {local})[0];
      if (global <= 0) continue;  // every rank sees the same total
      optimizer.zero_grad();
      for (size_t s = 0; s < minibatch.size(); s += size_t(options.micro_batch_size)) {
        std::vector<int64_t> micro(
            minibatch.begin() + long(s),
            minibatch.begin() + long(std::min(minibatch.size(), s + size_t(options.micro_batch_size))));
        const double share = by_token ? double(token_count(input, micro)) : double(micro.size());
        micro_step(policy, input, micro, share / global, options.loss, pass == 0, sums);
      }
      all_reduce_grads(dist, params);
      grad_norm_sum += clip_grad_norm(params, options.max_grad_norm);
      optimizer.step(options.lr);
      ++stats.updates;
    }
  }
  const std::vector<double> total =
      sum_over_ranks(dist, {sums.loss, sums.kl, sums.clip, sums.ratio, sums.tokens, sums.entropy, sums.entropy_tokens});
  const double tokens = std::max(total[4], 1.0);
  stats.loss = stats.updates ? total[0] / double(stats.updates) : 0.0;
  stats.kl = total[1] / tokens;
  stats.clip_fraction = total[2] / tokens;
  stats.ratio_mean = total[3] / tokens;
  stats.entropy = total[6] > 0 ? total[5] / total[6] : 0.0;
  stats.grad_norm = stats.updates ? grad_norm_sum / double(stats.updates) : 0.0;
  return stats;
}

}  // namespace upm
