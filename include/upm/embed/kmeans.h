#pragma once
// k-means over user embeddings, for Q-Anchor's cluster-based soft prompts:
// users are grouped by their (query-free or query) embedding and each cluster
// gets its own learned soft-prompt vectors, its centroid serving as the class
// prototype. Seeded k-means++ initialisation, then Lloyd iterations until no
// assignment changes (or max_iterations). An emptied cluster is re-seeded
// with the point farthest from its centroid, so k clusters always come back.

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "upm/core/config.h"

namespace upm {

struct KMeansConfig {
  int64_t k = 8;
  int64_t max_iterations = 100;
  uint64_t seed = 0;
};

inline void describe(ConfigIO& io, KMeansConfig& c) {
  io.field("k", c.k).greater_than(0);
  io.field("max_iterations", c.max_iterations).greater_than(0);
  io.field("seed", c.seed);
}

struct KMeansResult {
  torch::Tensor centroids;           // [k, d] float32 on the points' device
  std::vector<int64_t> assignments;  // cluster of each point
  double inertia = 0.0;              // sum of squared distances to the assigned centroids
  int64_t iterations = 0;
  bool converged = false;  // assignments stopped changing
};

// points: [n, d] with n >= k. Deterministic for a seed.
KMeansResult kmeans(const torch::Tensor& points, const KMeansConfig& config);

// Nearest centroid of each point ([n, d] x [k, d] -> n ids).
std::vector<int64_t> nearest_centroids(const torch::Tensor& points, const torch::Tensor& centroids);

}  // namespace upm
