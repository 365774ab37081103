#include "upm/infer/scorer.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/infer/padded_batch.h"
#include "upm/infer/prefix_sharing.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"

namespace upm {

void describe(ConfigIO& io, ScoringConfig& c) { io.field("max_batch_sequences", c.max_batch_sequences).at_least(1); }

namespace {

void check_request(const ScoringRequest& request, size_t index, int64_t vocab) {
  const std::string name = "request " + std::to_string(index);
  check_token_ids(request.context, vocab, name + " context");
  for (size_t o = 0; o < request.options.size(); ++o) {
    check_token_ids(request.options[o], vocab, name + " option " + std::to_string(o));
  }
}

// Scores the requests `chunk` (each with at least one option) into out.
void score_chunk(CausalLM& model, const std::vector<ScoringRequest>& requests, const std::vector<size_t>& chunk,
                 std::vector<std::vector<OptionScore>>& out) {
  const size_t count = chunk.size();
  std::vector<std::vector<int64_t>> contexts;
  std::vector<std::vector<int64_t>> options;
  std::vector<int64_t> copies;
  for (size_t r : chunk) {
    contexts.push_back(requests[r].context);
    copies.push_back(int64_t(requests[r].options.size()));
    options.insert(options.end(), requests[r].options.begin(), requests[r].options.end());
  }
  // Contexts left-padded (all end at the same cache entry), options
  // right-padded after them: option row i's token j sits at column j.
  PaddedBatch ctx = pad_sequences(contexts, PadSide::left);
  PaddedBatch opt = pad_sequences(options, PadSide::right);
  const int64_t rows = opt.ids.size(0), T = opt.ids.size(1);
  KVCache cache(model.config(), std::max<int64_t>(rows, int64_t(count)), ctx.ids.size(1) + T, model.dtype(),
                model.device());
  ForwardInput in;
  in.input_ids = ctx.ids;
  in.attention_mask = ctx.mask;
  in.cache = &cache;
  in.logits_for = LogitsFor::last;
  torch::Tensor first_logits = model.forward(in).logits.to(torch::kFloat);  // [count, 1, V]
  fan_out_prefixes(cache, copies);

  in.input_ids = opt.ids;
  in.attention_mask = opt.mask;
  in.logits_for = LogitsFor::all;
  torch::Tensor option_logits = model.forward(in).logits.to(torch::kFloat);  // [rows, T, V]
  // Logits predicting option token j: the context's last for j = 0, else option position j-1.
  std::vector<int64_t> request_of_row;
  for (size_t r = 0; r < count; ++r) request_of_row.insert(request_of_row.end(), copies[r], int64_t(r));
  auto index = torch::tensor(request_of_row, torch::kLong).to(first_logits.device());
  torch::Tensor predict = torch::cat({first_logits.index_select(0, index), option_logits.narrow(1, 0, T - 1)}, 1);
  torch::Tensor target = opt.ids.to(predict.device()).unsqueeze(-1);
  torch::Tensor lp = (predict.gather(-1, target).squeeze(-1) - predict.logsumexp(-1)).to(torch::kCPU).contiguous();
  auto acc = lp.accessor<float, 2>();

  int64_t row = 0;
  for (size_t r : chunk) {
    for (const auto& option : requests[r].options) {
      OptionScore s;
      for (size_t j = 0; j < option.size(); ++j) {
        s.token_logprobs.push_back(acc[row][j]);
        s.total += acc[row][j];
      }
      s.mean = s.total / double(option.size());
      out[r].push_back(std::move(s));
      ++row;
    }
  }
}

}  // namespace

std::vector<std::vector<OptionScore>> score_options(CausalLM& model, const std::vector<ScoringRequest>& requests,
                                                    const ScoringConfig& config) {
  c10::InferenceMode inference;
  for (size_t r = 0; r < requests.size(); ++r) check_request(requests[r], r, model.config().vocab_size);
  std::vector<std::vector<OptionScore>> out(requests.size());
  // Chunks of whole requests up to max_batch_sequences option rows; a
  // request without options gets no scores.
  std::vector<size_t> chunk;
  int64_t rows = 0;
  for (size_t r = 0; r < requests.size(); ++r) {
    const int64_t n = int64_t(requests[r].options.size());
    if (n == 0) continue;
    if (!chunk.empty() && rows + n > config.max_batch_sequences) {
      score_chunk(model, requests, chunk, out);
      chunk.clear();
      rows = 0;
    }
    chunk.push_back(r);
    rows += n;
  }
  if (!chunk.empty()) score_chunk(model, requests, chunk, out);
  return out;
}

}  // namespace upm
