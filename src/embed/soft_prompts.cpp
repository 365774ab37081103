#include "upm/embed/soft_prompts.h"

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/model/safetensors.h"
#include "upm/embed/kmeans.h"

namespace upm {

int64_t SoftPrompts::cluster_of(const torch::Tensor& pooled) const {
  torch::Tensor point = pooled.to(centroids.device(), torch::kFloat).reshape({1, -1});
  return nearest_centroids(point, centroids.to(torch::kFloat)).at(0);
}

SoftPrompts load_soft_prompts(const std::string& path, int64_t hidden, int64_t dim) {
  SafetensorsFile file(path);
  for (const auto& [name, entry] : file.header().tensors) {
    if (name != "prompts" && name != "centroids")
      throw InputError(Location{path, 0, name}, "unexpected tensor in a soft-prompt file");
  }
  const SafetensorsEntry& p = file.entry("prompts");
  const SafetensorsEntry& c = file.entry("centroids");
  if (p.shape.size() != 3 || p.shape[0] < 1 || p.shape[1] < 1 || p.shape[2] != hidden) {
    throw InputError(Location{path, 0, "prompts"},
                     "expected [clusters, tokens, " + std::to_string(hidden) + "] (the model's hidden size)");
  }
  if (c.shape.size() != 2 || c.shape[0] != p.shape[0] || c.shape[1] != dim) {
    throw InputError(Location{path, 0, "centroids"}, "expected [" + std::to_string(p.shape[0]) + ", " +
                                                         std::to_string(dim) +
                                                         "] (one centroid per cluster, the embedding width)");
  }
  SoftPrompts out;
  out.prompts = file.tensor("prompts").to(torch::kFloat).clone();
  out.centroids = file.tensor("centroids").to(torch::kFloat).clone();
  return out;
}

void save_soft_prompts(const SoftPrompts& prompts, const std::string& path) {
  write_safetensors(path,
                    {{"prompts", prompts.prompts.detach().to(torch::kCPU, torch::kFloat).contiguous()},
                     {"centroids", prompts.centroids.detach().to(torch::kCPU, torch::kFloat).contiguous()}},
                    {{"format", "pt"}, {"upm.kind", "soft_prompts"}});
}

}  // namespace upm
