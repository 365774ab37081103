#pragma once
// Query-anchored user embeddings (Q-Anchor), at the token level.
//
// A user's history is prefilled ONCE into slot 0 of a KV cache (in chunks, so
// that a long history never materialises a [T, T] score matrix). Queries are
// then processed in batches: each row of working slots 1..b reads the history
// from slot 0 in place (a shared read-only prefix, no copy), appends its own query tokens (right-padded, masked) and
// the final hidden state at the row's last real token -- the embedding position, a <USER_EMB> marker or the query's
// last token (embedding_prompts.h) -- is the embedding. The tokens all queries start with (the query template's fixed
// start) are prefilled once with the history. So N queries cost one prefill
// plus the queries' own tokens;
// the marginal cost of a query does not grow with the history.
//
// Every embedding optionally goes through the projection head
// (embedding_projection.h) and is L2-normalised. The query-free baseline of
// the evaluation, the mean of the history's hidden states, comes out of the
// same prefill at no extra cost and goes through the same head.

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "upm/core/config.h"

namespace upm {

class CausalLM;
class KVCache;
class EmbeddingProjection;
struct SoftPrompts;

struct EmbedderSettings {
  int64_t query_batch = 16;     // queries run together (working KV-cache slots)
  int64_t prefill_chunk = 512;  // history tokens per prefill forward
  bool mean_pooled = false;     // also return the mean-pooled history (baseline)
  bool normalize = true;        // L2-normalise every embedding
  // Tokens every query starts with (the template's "\nQuery:") join the
  // shared prefill instead of being recomputed per query. Same results.
  bool share_query_prefix = true;
  // Reference path: copy the history's keys/values into each query's slot
  // (KVCache::copy_prefix) instead of reading slot 0 in place. Same results,
  // slower; kept for the benchmark's comparison.
  bool copy_prefix = false;
  // Reference path: the last layer computes every query token, not only the
  // one read (ForwardInput::hidden_at). Same results, slower; for the benchmark.
  bool full_last_layer = false;
};

inline void describe(ConfigIO& io, EmbedderSettings& s) {
  io.field("query_batch", s.query_batch).greater_than(0);
  io.field("prefill_chunk", s.prefill_chunk).greater_than(0);
  io.field("mean_pooled", s.mean_pooled);
  io.field("normalize", s.normalize);
  io.field("share_query_prefix", s.share_query_prefix);
  io.field("copy_prefix", s.copy_prefix);
  io.field("full_last_layer", s.full_last_layer);
}

struct UserEmbeddings {
  torch::Tensor queries;      // [Q, d] float32 on the CPU, one row per query in order
  torch::Tensor mean_pooled;  // [d] float32 on the CPU; undefined unless settings.mean_pooled
};

class Embedder {
 public:
  // `projection` may be null (embeddings are the model's hidden states).
  Embedder(std::shared_ptr<CausalLM> model, std::shared_ptr<EmbeddingProjection> projection, EmbedderSettings settings);
  ~Embedder();

  // history: token ids (BOS included if wanted); queries: each query's ids,
  // ending at the embedding position. Both non-empty.
  UserEmbeddings embed(const std::vector<int64_t>& history, const std::vector<std::vector<int64_t>>& queries);

  // The same embedding from one full forward over history + query with no
  // cache: the reference the prefix-shared path must equal, and the cost a
  // cache-less embedder pays per query.
  torch::Tensor embed_from_scratch(const std::vector<int64_t>& history, const std::vector<int64_t>& query);

  // Cluster soft prompts (soft_prompts.h): each user's prompt vectors are
  // placed after the history (prefilled once with it), chosen by the user's
  // query-free embedding. Null = none.
  void set_soft_prompts(std::shared_ptr<const SoftPrompts> prompts);
  // The query-free embedding (mean-pooled history, head, normalisation) [d]:
  // what soft-prompt clusters are computed from.
  torch::Tensor history_embedding(const std::vector<int64_t>& history);
  // The soft-prompt cluster of a history (-1 without soft prompts).
  int64_t cluster_of(const std::vector<int64_t>& history);

  // Embedding width: the head's output, else the model's hidden size.
  int64_t dim() const;
  const EmbedderSettings& settings() const { return settings_; }

 private:
  // Prefills slot 0 with the history, the user's soft prompt (if any) and
  // shared_query; returns the sum of the history's hidden states ([hidden]).
  torch::Tensor prefill(const std::vector<int64_t>& history, const std::vector<int64_t>& shared_query);
  // Prefill step of `ids` (or of `embeds` [1, T, hidden] when defined) into slot 0.
  torch::Tensor prefill_chunk(const torch::Tensor& ids, const torch::Tensor& embeds);
  // InputError naming `what` for an id outside [0, vocab_size).
  void check_ids(const std::vector<int64_t>& ids, const char* what) const;
  static int64_t shared_query_prefix(const std::vector<std::vector<int64_t>>& queries);
  // Hidden states at the last token of each query of [begin, end).
  torch::Tensor run_queries(int64_t history_length, const std::vector<std::vector<int64_t>>& queries, size_t begin,
                            size_t end);
  // A cache with at least `slots` slots of `length` entries (grown, never shrunk).
  void ensure_cache(int64_t slots, int64_t length);
  // Head (if any) and normalisation, then fp32 on the CPU.
  torch::Tensor finish(const torch::Tensor& hidden);

  std::shared_ptr<CausalLM> model_;
  std::shared_ptr<EmbeddingProjection> projection_;
  EmbedderSettings settings_;
  std::unique_ptr<KVCache> cache_;
  std::shared_ptr<const SoftPrompts> soft_prompts_;
};

}  // namespace upm
