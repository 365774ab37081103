#pragma once
// The projection head of Q-Anchor: a small MLP shared by every query that maps
// the LM's hidden state at the embedding position to a compact embedding
// (the published default is 128 dimensions):
//   fc2(gelu(fc1(h)))     fc1: [inner, hidden], fc2: [out, inner], both with bias
// Stored as one safetensors file with exactly the tensors
//   fc1.weight, fc1.bias, fc2.weight, fc2.bias
// (fp32 or any float dtype); loading is strict like the model's.

#include <cstdint>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

namespace upm {

class EmbeddingProjection : public torch::nn::Module {
 public:
  EmbeddingProjection(int64_t hidden, int64_t inner, int64_t out, const torch::TensorOptions& options = {});

  // h: [..., hidden] -> [..., out]
  torch::Tensor forward(const torch::Tensor& h);

  int64_t in_features() const { return fc1->options.in_features(); }
  int64_t out_features() const { return fc2->options.out_features(); }

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};

// Reads a head from `path`; InputError naming the file and tensor when a
// tensor is missing, unexpected or mis-shaped, or when its input width is not
// `hidden` (the model's hidden size).
std::shared_ptr<EmbeddingProjection> load_embedding_projection(const std::string& path, int64_t hidden,
                                                               const torch::TensorOptions& options);

// Writes the head's four tensors (fp32), atomically.
void save_embedding_projection(const EmbeddingProjection& head, const std::string& path);

}  // namespace upm
