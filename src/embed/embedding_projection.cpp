#include "upm/embed/embedding_projection.h"

#include <set>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/model/safetensors.h"

namespace upm {

EmbeddingProjection::EmbeddingProjection(int64_t hidden, int64_t inner, int64_t out,
                                         const torch::TensorOptions& options) {
  fc1 = register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(hidden, inner).bias(true)));
  fc2 = register_module("fc2", torch::nn::Linear(torch::nn::LinearOptions(inner, out).bias(true)));
  to(options.device(), options.dtype().toScalarType());
}

torch::Tensor EmbeddingProjection::forward(const torch::Tensor& h) {
  return fc2->forward(torch::gelu(fc1->forward(h)));
}

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

const SafetensorsEntry& expect_rank(const SafetensorsFile& file, const std::string& name, size_t rank) {
  const SafetensorsEntry& entry = file.entry(name);
  if (entry.shape.size() != rank) {
    throw InputError(Location{file.path(), 0, name},
                     "expected a rank-" + std::to_string(rank) + " tensor, got shape " + shape_text(entry.shape));
  }
  return entry;
}

}  // namespace

std::shared_ptr<EmbeddingProjection> load_embedding_projection(const std::string& path, int64_t hidden,
                                                               const torch::TensorOptions& options) {
  SafetensorsFile file(path);
  const std::set<std::string> expected{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
  for (const auto& [name, entry] : file.header().tensors) {
    if (!expected.count(name)) throw InputError(Location{path, 0, name}, "unexpected tensor in a projection head");
  }
  const auto& w1 = expect_rank(file, "fc1.weight", 2);
  const auto& w2 = expect_rank(file, "fc2.weight", 2);
  const int64_t inner = w1.shape[0], out = w2.shape[0];
  const std::map<std::string, std::vector<int64_t>> shapes{
      {"fc1.weight", {inner, hidden}}, {"fc1.bias", {inner}}, {"fc2.weight", {out, inner}}, {"fc2.bias", {out}}};
  for (const auto& [name, shape] : shapes) {
    const SafetensorsEntry& entry = file.entry(name);
    if (entry.shape != shape) {
      throw InputError(Location{path, 0, name}, "wrong shape; expected " + shape_text(shape) + " (model hidden size " +
                                                    std::to_string(hidden) + "), got " + shape_text(entry.shape));
    }
  }
  auto head = std::make_shared<EmbeddingProjection>(hidden, inner, out, options);
  torch::NoGradGuard no_grad;
  for (auto& item : head->named_parameters()) item.value().copy_(file.tensor(item.key()));
  return head;
}

void save_embedding_projection(const EmbeddingProjection& head, const std::string& path) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : head.named_parameters()) {
    tensors.emplace_back(item.key(), item.value().detach().to(torch::kCPU, torch::kFloat));
  }
  write_safetensors(path, tensors, {{"format", "pt"}, {"upm.kind", "embedding_projection"}, {"activation", "gelu"}});
}

}  // namespace upm
