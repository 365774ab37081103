#include "upm/embed/kmeans.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "upm/core/error.h"

namespace upm {

namespace {

// [n, k] squared Euclidean distances.
torch::Tensor squared_distances(const torch::Tensor& x, const torch::Tensor& c) {
  return (x.pow(2).sum(1, true) - 2 * torch::matmul(x, c.t()) + c.pow(2).sum(1).unsqueeze(0)).clamp_min(0);
}

// k-means++: each next centre drawn with probability proportional to the
// squared distance to the nearest centre chosen so far.
torch::Tensor kmeans_plus_plus(const torch::Tensor& x, int64_t k, at::Generator& generator) {
  const int64_t n = x.size(0);
  std::vector<int64_t> chosen{torch::randint(n, {1}, generator, torch::kLong).item<int64_t>()};
  torch::Tensor nearest = squared_distances(x, x[chosen[0]].unsqueeze(0)).squeeze(1);
  while (int64_t(chosen.size()) < k) {
    const double total = nearest.sum().item<double>();
    int64_t next;
    if (total <= 0) {
      next = int64_t(chosen.size());  // all points coincide with centres: any distinct index will do
    } else {
      next = torch::multinomial(nearest.to(torch::kCPU, torch::kDouble) / total, 1, false, generator).item<int64_t>();
    }
    chosen.push_back(next);
    nearest = torch::minimum(nearest, squared_distances(x, x[next].unsqueeze(0)).squeeze(1));
  }
  return x.index_select(0, torch::tensor(chosen, torch::kLong).to(x.device())).clone();
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace

std::vector<int64_t> nearest_centroids(const torch::Tensor& points, const torch::Tensor& centroids) {
  c10::InferenceMode guard;
  return to_vector(squared_distances(points.to(torch::kFloat), centroids.to(torch::kFloat)).argmin(1));
}

KMeansResult kmeans(const torch::Tensor& points, const KMeansConfig& config) {
  if (points.dim() != 2) throw Error("kmeans: points must be [n, d]");
  const int64_t n = points.size(0), k = config.k;
  if (k <= 0 || n < k) {
    throw InputError(Location{"", 0, "k"}, "k-means needs 1 <= k <= points, got k = " + std::to_string(k) + " for " +
                                               std::to_string(n) + " points");
  }
  c10::InferenceMode guard;
  torch::Tensor x = points.to(torch::kFloat);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  KMeansResult out;
  out.centroids = kmeans_plus_plus(x, k, generator);
  torch::Tensor assigned;
  for (out.iterations = 1; out.iterations <= config.max_iterations; ++out.iterations) {
    torch::Tensor d = squared_distances(x, out.centroids);
    torch::Tensor next = d.argmin(1);
    const bool changed = !assigned.defined() || !torch::equal(next, assigned);
    assigned = next;
    // New centroids: the mean of each cluster's points.
    torch::Tensor sums = torch::zeros_like(out.centroids).index_add_(0, assigned, x);
    torch::Tensor counts = torch::zeros({k}, x.options()).index_add_(0, assigned, torch::ones({n}, x.options()));
    torch::Tensor own = d.gather(1, assigned.unsqueeze(1)).squeeze(1);
    for (int64_t c = 0; c < k; ++c) {
      if (counts[c].item<double>() > 0) continue;
      const int64_t far = own.argmax().item<int64_t>();
      sums[c].copy_(x[far]);
      counts[c].fill_(1);
      own[far] = 0;
    }
    out.centroids = sums / counts.unsqueeze(1);
    if (!changed) {
      out.converged = true;
      break;
    }
  }
  out.iterations = std::min(out.iterations, config.max_iterations);
  out.assignments = nearest_centroids(x, out.centroids);
  torch::Tensor final_d = squared_distances(x, out.centroids);
  out.inertia = final_d.amin(1).sum().item<double>();
  return out;
}

}  // namespace upm
