#include "upm/infer/sampler.h"

#include <algorithm>
#include <limits>

#include <torch/torch.h>

#include "upm/core/error.h"

namespace upm {

void describe(ConfigIO& io, SamplingConfig& c) {
  io.field("temperature", c.temperature).at_least(0.0);
  io.field("top_k", c.top_k).at_least(0);
  io.field("top_p", c.top_p).greater_than(0.0).at_most(1.0);
  io.field("min_p", c.min_p).at_least(0.0).at_most(1.0);
  io.field("repetition_penalty", c.repetition_penalty).greater_than(0.0);
  io.field("seed", c.seed);
}

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_logits(const at::Tensor& logits) {
  if (logits.dim() != 2) {
    throw Error("sampler: logits must be [batch, vocab], got " + std::to_string(logits.dim()) + " dims");
  }
}
}  // namespace

at::Tensor apply_repetition_penalty(const at::Tensor& logits, const std::vector<std::vector<TokenId>>& seen,
                                    double penalty) {
  check_logits(logits);
  if (penalty == 1.0 || seen.empty()) return logits;
  at::Tensor out = logits.clone();
  const int64_t vocab = logits.size(1);
  for (int64_t b = 0; b < logits.size(0) && b < static_cast<int64_t>(seen.size()); ++b) {
    if (seen[b].empty()) continue;
    std::vector<int64_t> ids;
    ids.reserve(seen[b].size());
    for (TokenId id : seen[b]) {
      if (id >= 0 && id < vocab) ids.push_back(id);
    }
    auto index = torch::tensor(ids, torch::TensorOptions().dtype(torch::kLong)).to(logits.device());
    index = std::get<0>(at::_unique(index));
    at::Tensor row = out[b];
    at::Tensor picked = row.index_select(0, index);
    // HF: positive logits are divided, negative multiplied, so the token
    // always becomes less likely.
    picked = torch::where(picked > 0, picked / penalty, picked * penalty);
    row.index_copy_(0, index, picked);
  }
  return out;
}

at::Tensor apply_top_k(const at::Tensor& logits, int k) {
  check_logits(logits);
  if (k <= 0 || k >= logits.size(1)) return logits;
  at::Tensor kth = std::get<0>(logits.topk(k, /*dim=*/1)).select(1, k - 1).unsqueeze(1);
  return logits.masked_fill(logits < kth, kNegInf);
}

namespace {

// Full-sort top-p, HF semantics: sort ascending, drop the tokens whose
// cumulative mass is <= 1 - p; the most likely token is always kept.
at::Tensor top_p_full_sort(const at::Tensor& logits, double p) {
  auto [sorted, order] = logits.sort(/*dim=*/1, /*descending=*/false);
  at::Tensor cumulative = sorted.to(torch::kFloat).softmax(1).cumsum(1);
  at::Tensor drop_sorted = cumulative <= (1.0 - p);
  drop_sorted.select(1, logits.size(1) - 1).fill_(false);
  at::Tensor drop = torch::zeros_like(drop_sorted).scatter(1, order, drop_sorted);
  return logits.masked_fill(drop, kNegInf);
}

}  // namespace

at::Tensor apply_top_p(const at::Tensor& logits, double p) {
  check_logits(logits);
  if (p >= 1.0) return logits;
  // The same rule read from the top: a token survives iff the mass of the
  // tokens ranked above it is < p. Sorting a 150k vocabulary costs ~100x a
  // pass over it, so look at the best `head` tokens first; when they already
  // hold mass >= p, no token below them can survive and the answer is exact.
  const int64_t head = std::min<int64_t>(logits.size(1), 1024);
  at::Tensor x = logits.to(torch::kFloat);
  auto [top_values, top_index] = x.topk(head, /*dim=*/1);
  at::Tensor top_probs = (top_values - x.logsumexp(1, /*keepdim=*/true)).exp();
  at::Tensor mass_above = top_probs.cumsum(1) - top_probs;
  if (head < logits.size(1) && !(top_probs.sum(1) >= p).all().item<bool>()) {
    return top_p_full_sort(logits, p);
  }
  at::Tensor keep_top = mass_above < p;
  keep_top.select(1, 0).fill_(true);
  at::Tensor keep = torch::zeros_like(x, torch::kBool).scatter(1, top_index, keep_top);
  return logits.masked_fill(keep.logical_not(), kNegInf);
}

at::Tensor apply_min_p(const at::Tensor& logits, double p) {
  check_logits(logits);
  if (p <= 0.0) return logits;
  at::Tensor probs = logits.to(torch::kFloat).softmax(1);
  at::Tensor threshold = std::get<0>(probs.max(1, /*keepdim=*/true)) * p;
  return logits.masked_fill(probs < threshold, kNegInf);
}

at::Tensor sampling_probabilities(const at::Tensor& logits, const SamplingConfig& config) {
  at::Tensor x = logits.to(torch::kFloat);
  if (!config.greedy()) x = x / config.temperature;
  x = apply_top_k(x, config.top_k);
  x = apply_top_p(x, config.top_p);
  x = apply_min_p(x, config.min_p);
  return x.softmax(1);
}

TokenSampler::TokenSampler(SamplingConfig config, std::vector<uint64_t> seeds) : config_(config) {
  streams_.reserve(seeds.size());
  for (uint64_t s : seeds) streams_.emplace_back(s);
}

TokenSampler::TokenSampler(SamplingConfig config, int64_t num_sequences) : config_(config) {
  streams_.reserve(static_cast<size_t>(num_sequences));
  for (int64_t i = 0; i < num_sequences; ++i) {
    streams_.emplace_back(sequence_seed(config.seed, static_cast<uint64_t>(i)));
  }
}

std::vector<TokenId> TokenSampler::sample(const at::Tensor& logits, const std::vector<int64_t>& rows,
                                          const std::vector<std::vector<TokenId>>& seen) {
  check_logits(logits);
  if (logits.size(0) != static_cast<int64_t>(rows.size())) {
    throw Error("sampler: " + std::to_string(logits.size(0)) + " logit rows for " + std::to_string(rows.size()) +
                " sequences");
  }
  at::Tensor x = apply_repetition_penalty(logits, seen, config_.repetition_penalty);
  at::Tensor chosen;
  if (config_.greedy()) {
    chosen = x.argmax(1);
  } else {
    at::Tensor cdf = sampling_probabilities(x, config_).cumsum(1);
    // One uniform per sequence from its own stream; the token is the first
    // whose cumulative mass exceeds u * total.
    std::vector<float> draws(rows.size());
    for (size_t b = 0; b < rows.size(); ++b) {
      if (rows[b] < 0 || rows[b] >= static_cast<int64_t>(streams_.size())) {
        throw Error("sampler: sequence index " + std::to_string(rows[b]) + " out of range");
      }
      draws[b] = static_cast<float>(streams_[static_cast<size_t>(rows[b])].canonical());
    }
    at::Tensor u = torch::tensor(draws).to(cdf.device()).unsqueeze(1);
    at::Tensor total = cdf.narrow(1, cdf.size(1) - 1, 1);
    chosen = torch::searchsorted(cdf, (u * total).contiguous(), /*out_int32=*/false, /*right=*/true)
                 .squeeze(1)
                 .clamp_max(cdf.size(1) - 1);
  }
  at::Tensor host = chosen.to(torch::kCPU, torch::kLong).contiguous();
  std::vector<TokenId> out(rows.size());
  for (size_t b = 0; b < rows.size(); ++b) out[b] = static_cast<TokenId>(host.data_ptr<int64_t>()[b]);
  return out;
}

}  // namespace upm
