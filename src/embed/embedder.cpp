#include "upm/embed/embedder.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"
#include "upm/embed/embedding_projection.h"
#include "upm/embed/soft_prompts.h"

namespace upm {

Embedder::Embedder(std::shared_ptr<CausalLM> model, std::shared_ptr<EmbeddingProjection> projection,
                   EmbedderSettings settings)
    : model_(std::move(model)), projection_(std::move(projection)), settings_(settings) {
  if (!model_) throw Error("Embedder: no model");
  if (projection_ && projection_->in_features() != model_->config().hidden_size) {
    throw InputError(Location{"", 0, "projection"}, "head expects width " + std::to_string(projection_->in_features()) +
                                                        ", the model's hidden size is " +
                                                        std::to_string(model_->config().hidden_size));
  }
}

Embedder::~Embedder() = default;

int64_t Embedder::dim() const { return projection_ ? projection_->out_features() : model_->config().hidden_size; }

void Embedder::ensure_cache(int64_t slots, int64_t length) {
  if (cache_ && cache_->max_sequences() >= slots && cache_->max_length() >= length) return;
  if (cache_) {
    slots = std::max(slots, cache_->max_sequences());
    length = std::max(length, cache_->max_length());
  }
  cache_.reset();  // free the old buffers before allocating the new ones
  cache_ = std::make_unique<KVCache>(model_->config(), slots, length, model_->dtype(), model_->device());
}

torch::Tensor Embedder::prefill_chunk(const torch::Tensor& ids, const torch::Tensor& embeds) {
  ForwardInput in;
  if (embeds.defined()) {
    in.inputs_embeds = embeds;
  } else {
    in.input_ids = ids;
  }
  in.cache = cache_.get();
  in.slots = {0};
  in.logits_for = LogitsFor::none;
  return model_->forward(in).hidden;
}

torch::Tensor Embedder::prefill(const std::vector<int64_t>& history, const std::vector<int64_t>& shared_query) {
  const int64_t H = int64_t(history.size());
  torch::Tensor ids = torch::tensor(history, torch::kLong).to(model_->device()).view({1, H});
  torch::Tensor sum = torch::zeros({model_->config().hidden_size},
                                   torch::TensorOptions().dtype(torch::kFloat).device(model_->device()));
  cache_->reset(0);
  for (int64_t start = 0; start < H; start += settings_.prefill_chunk) {
    const int64_t length = std::min(settings_.prefill_chunk, H - start);
    sum += prefill_chunk(ids.narrow(1, start, length), {})[0].to(torch::kFloat).sum(0);
  }
  if (soft_prompts_) {
    const int64_t cluster = soft_prompts_->cluster_of(finish((sum / double(H)).unsqueeze(0)).squeeze(0));
    prefill_chunk({}, soft_prompts_->prompts[cluster].unsqueeze(0).to(model_->device(), model_->dtype()));
  }
  if (!shared_query.empty()) {
    prefill_chunk(torch::tensor(shared_query, torch::kLong).to(model_->device()).view({1, -1}), {});
  }
  return sum;
}

void Embedder::set_soft_prompts(std::shared_ptr<const SoftPrompts> prompts) {
  if (prompts && prompts->prompts.size(2) != model_->config().hidden_size) {
    throw InputError(Location{"", 0, "soft_prompts"}, "prompt vectors are not of the model's hidden size");
  }
  if (prompts && prompts->centroids.size(1) != dim()) {
    throw InputError(Location{"", 0, "soft_prompts"},
                     "centroids are not of the embedding width " + std::to_string(dim()));
  }
  soft_prompts_ = std::move(prompts);
}

torch::Tensor Embedder::history_embedding(const std::vector<int64_t>& history) {
  if (history.empty()) throw InputError(Location{"", 0, "history"}, "empty history: nothing to embed");
  check_ids(history, "history");
  c10::InferenceMode guard;
  const int64_t extra = soft_prompts_ ? soft_prompts_->tokens() : 0;
  ensure_cache(1, int64_t(history.size()) + extra);
  torch::Tensor sum = prefill(history, {});
  return finish((sum / double(history.size())).unsqueeze(0)).squeeze(0);
}

int64_t Embedder::cluster_of(const std::vector<int64_t>& history) {
  return soft_prompts_ ? soft_prompts_->cluster_of(history_embedding(history)) : -1;
}

// Tokens that every query starts with (the query template's fixed start,
// "\nQuery:"), leaving each query at least its last token.
int64_t Embedder::shared_query_prefix(const std::vector<std::vector<int64_t>>& queries) {
  if (queries.size() < 2) return 0;
  size_t n = queries[0].size() - 1;
  for (const auto& q : queries) {
    n = std::min(n, q.size() - 1);
    size_t i = 0;
    while (i < n && q[i] == queries[0][i]) ++i;
    n = i;
  }
  return int64_t(n);
}

torch::Tensor Embedder::run_queries(int64_t history_length, const std::vector<std::vector<int64_t>>& queries,
                                    size_t begin, size_t end) {
  const int64_t B = int64_t(end - begin);
  int64_t longest = 0;
  for (size_t q = begin; q < end; ++q) longest = std::max(longest, int64_t(queries[q].size()));
  // Right padding: every row's query starts right after the shared history,
  // so real tokens never see a pad (they come before it) and each row's
  // embedding position is simply its own last real token.
  torch::Tensor ids = torch::zeros({B, longest}, torch::kLong);
  torch::Tensor mask = torch::zeros({B, longest}, torch::kLong);
  std::vector<int64_t> slots, last;
  for (int64_t b = 0; b < B; ++b) {
    const auto& query = queries[begin + b];
    ids[b].narrow(0, 0, int64_t(query.size())).copy_(torch::tensor(query, torch::kLong));
    mask[b].narrow(0, 0, int64_t(query.size())).fill_(1);
    slots.push_back(1 + b);
    last.push_back(int64_t(query.size()) - 1);
    if (settings_.copy_prefix) {
      cache_->copy_prefix(0, 1 + b, history_length);
    } else {
      cache_->reset(1 + b);  // the row's slot holds only its own query
    }
  }
  ForwardInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  in.cache = cache_.get();
  in.slots = slots;
  if (!settings_.copy_prefix) {
    // Every row reads the history from slot 0 in place: no per-query copy.
    in.prefix_slot = 0;
    in.prefix_length = history_length;
  }
  in.logits_for = LogitsFor::none;
  // Only each row's last real token's output is read: the last layer skips
  // the others' queries, attention output and MLP (their keys and values in
  // that layer are still computed, the last token attends to them).
  if (settings_.full_last_layer) {
    ForwardOutput out = model_->forward(in);
    torch::Tensor index = torch::tensor(last, torch::kLong).to(out.hidden.device()).view({B, 1, 1});
    return out.hidden.gather(1, index.expand({B, 1, out.hidden.size(2)})).squeeze(1);
  }
  in.hidden_at = torch::tensor(last, torch::kLong);
  return model_->forward(in).hidden.squeeze(1);  // [B, hidden]
}

torch::Tensor Embedder::finish(const torch::Tensor& hidden) {
  torch::Tensor e = hidden;
  if (projection_) {
    auto param = projection_->fc1->weight;
    e = projection_->forward(e.to(param.device(), param.scalar_type()));
  }
  e = e.to(torch::kFloat);
  // A tiny floor keeps an all-zero vector zero instead of NaN.
  if (settings_.normalize) e = e / e.norm(2, -1, true).clamp_min(1e-12);
  return e.to(torch::kCPU);
}

void Embedder::check_ids(const std::vector<int64_t>& ids, const char* what) const {
  const int64_t vocab = model_->config().vocab_size;
  for (int64_t id : ids) {
    // A tokenizer larger than the model's embedding table would otherwise
    // index out of bounds deep inside the forward pass.
    if (id < 0 || id >= vocab) {
      throw InputError(Location{"", 0, what}, "token id " + std::to_string(id) +
                                                  " is outside the model's vocabulary of " + std::to_string(vocab) +
                                                  " (tokenizer and model do not match?)");
    }
  }
}

UserEmbeddings Embedder::embed(const std::vector<int64_t>& history, const std::vector<std::vector<int64_t>>& queries) {
  if (history.empty()) throw InputError(Location{"", 0, "history"}, "empty history: nothing to embed");
  if (queries.empty()) throw InputError(Location{"", 0, "queries"}, "no queries");
  check_ids(history, "history");
  int64_t longest = 0;
  for (const auto& q : queries) {
    if (q.empty()) throw InputError(Location{"", 0, "queries"}, "a query has no tokens");
    check_ids(q, "queries");
    longest = std::max(longest, int64_t(q.size()));
  }
  c10::InferenceMode guard;
  // The queries' common start is computed once, as part of the shared prefix:
  // the token sequence of every row is unchanged, only where it is computed.
  const int64_t shared = settings_.share_query_prefix ? shared_query_prefix(queries) : 0;
  std::vector<std::vector<int64_t>> rest;
  for (const auto& q : queries) rest.emplace_back(q.begin() + shared, q.end());
  const std::vector<int64_t> common(queries[0].begin(), queries[0].begin() + shared);
  const int64_t H = int64_t(history.size());
  const int64_t prefix = H + (soft_prompts_ ? soft_prompts_->tokens() : 0) + shared;
  const int64_t batch = std::min<int64_t>(settings_.query_batch, int64_t(queries.size()));
  ensure_cache(1 + batch, prefix + longest - shared);

  torch::Tensor sum = prefill(history, common);
  std::vector<torch::Tensor> rows;
  for (size_t begin = 0; begin < rest.size(); begin += size_t(batch)) {
    const size_t end = std::min(rest.size(), begin + size_t(batch));
    rows.push_back(run_queries(prefix, rest, begin, end));
  }
  UserEmbeddings out;
  out.queries = finish(torch::cat(rows, 0));
  if (settings_.mean_pooled) out.mean_pooled = finish((sum / double(H)).unsqueeze(0)).squeeze(0);
  return out;
}

torch::Tensor Embedder::embed_from_scratch(const std::vector<int64_t>& history, const std::vector<int64_t>& query) {
  check_ids(history, "history");
  check_ids(query, "query");
  c10::InferenceMode guard;
  std::vector<int64_t> all = history;
  all.insert(all.end(), query.begin(), query.end());
  const int64_t H = int64_t(history.size());
  ForwardInput in;
  in.input_ids = torch::tensor(all, torch::kLong).view({1, int64_t(all.size())});
  in.logits_for = LogitsFor::none;
  if (soft_prompts_) {
    // The cluster comes from the history alone (causal: the same hidden states
    // as in a forward over the history only).
    ForwardInput history_only;
    history_only.input_ids = in.input_ids.narrow(1, 0, H);
    history_only.logits_for = LogitsFor::none;
    torch::Tensor pooled = model_->forward(history_only).hidden[0].to(torch::kFloat).mean(0);
    const int64_t cluster = soft_prompts_->cluster_of(finish(pooled.unsqueeze(0)).squeeze(0));
    torch::Tensor ids = in.input_ids.to(model_->device());
    auto& embed = *model_->model->embed_tokens;
    in.inputs_embeds = torch::cat({embed.forward(ids.narrow(1, 0, H)),
                                   soft_prompts_->prompts[cluster].unsqueeze(0).to(model_->device(), model_->dtype()),
                                   embed.forward(ids.narrow(1, H, int64_t(query.size())))},
                                  1);
  }
  ForwardOutput out = model_->forward(in);
  return finish(out.hidden[0][out.hidden.size(1) - 1].unsqueeze(0)).squeeze(0);
}

}  // namespace upm
