#pragma once
// Cluster-based soft prompts (Q-Anchor): users are grouped by k-means over
// their query-free embedding (the mean-pooled history, `@history_mean`, after
// the same head and normalisation), and each cluster owns P learned input
// vectors placed between the history and the query:
//   history tokens | prompts[cluster(user)] (P vectors) | query tokens [| <USER_EMB>]
// They are trained with the LM (and head) frozen (`upm-train embed` with
// soft_prompt.enabled) and used by the Embedder when given.
//
// File (safetensors, fp32): "prompts" [K, P, hidden], "centroids" [K, d];
// metadata upm.kind = soft_prompts.

#include <cstdint>
#include <string>

#include <torch/types.h>

namespace upm {

struct SoftPrompts {
  torch::Tensor prompts;    // [K, P, hidden]
  torch::Tensor centroids;  // [K, d], in the space of the query-free embedding

  int64_t clusters() const { return prompts.size(0); }
  int64_t tokens() const { return prompts.size(1); }
  // The nearest centroid (Euclidean, as k-means assigns) of a query-free embedding [d].
  int64_t cluster_of(const torch::Tensor& pooled) const;
};

// Strict read: both tensors present with consistent shapes, `hidden` the
// model's width, `dim` the query-free embedding's width; InputError naming the
// file and tensor otherwise.
SoftPrompts load_soft_prompts(const std::string& path, int64_t hidden, int64_t dim);
// Writes both tensors as fp32, atomically.
void save_soft_prompts(const SoftPrompts& prompts, const std::string& path);

}  // namespace upm
