#pragma once
// Building blocks of the decoder, as torch::nn modules whose parameter names
// are Hugging Face's (q_proj.weight, input_layernorm.weight, ...), so that
// named_parameters() of a CausalLM lists exactly the tensors of a checkpoint.
// Parameters are created uninitialised; CausalLM fills them (random init or
// weights loaded straight into them).

#include <cstdint>
#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include "upm/model/attention_kernel.h"
#include "upm/model/model_config.h"

namespace upm {

class KVCache;
struct KVCacheStep;

// y = x W^T (+ b). A module of our own (not torch::nn::Linear) so that
// construction does no work and adapters (LoRA) can wrap it.
// A term added to a Linear's output (LoRA: B A x * scale). Not a registered
// submodule, so named_parameters() of the model stays the checkpoint's names.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  virtual torch::Tensor forward(const torch::Tensor& x) const = 0;
};

class Linear : public torch::nn::Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x) const;
  torch::Tensor weight, bias;              // [out, in], [out] or undefined
  std::shared_ptr<LinearAdapter> adapter;  // optional
};

// x / sqrt(mean(x^2) + eps) * weight, computed in fp32 as HF does.
class RMSNorm : public torch::nn::Module {
 public:
  RMSNorm(int64_t dim, double eps, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x) const;
  torch::Tensor weight;  // [dim]
  double eps;
};

class Embedding : public torch::nn::Module {
 public:
  Embedding(int64_t vocab, int64_t dim, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& ids) const;
  torch::Tensor weight;  // [vocab, dim]
};

// cos/sin tables for given positions; rotate-half convention (HF Llama).
class RotaryEmbedding {
 public:
  explicit RotaryEmbedding(const ModelConfig& config);
  // positions [B, T] -> {cos, sin} each [B, 1, T, head_dim] in `dtype`.
  std::pair<torch::Tensor, torch::Tensor> tables(const torch::Tensor& positions, c10::ScalarType dtype) const;
  // x [B, H, T, D] rotated by the tables.
  static torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);
  // Inverse frequencies [head_dim/2] (fp32, CPU), after rope_scaling.
  const torch::Tensor& inv_freq() const { return inv_freq_; }

 private:
  torch::Tensor inv_freq_;
};

// What every attention layer of one forward pass shares.
struct AttentionContext {
  torch::Tensor cos, sin;  // [B, 1, T, D]
  // Additive, fp32 [B, 1, T, key_length]: 0 or the lowest finite float.
  // Undefined when `causal` and the kernel is sdpa (nothing reads it then).
  torch::Tensor mask;
  // Query i sees exactly keys 0..i (T == key_length: no padding, segments or
  // cache), so SDPA can take is_causal instead of the mask.
  bool causal = false;
  AttentionKernel kernel = AttentionKernel::sdpa;
  KVCache* cache = nullptr;  // keys/values of earlier tokens (optional)
  const KVCacheStep* step = nullptr;
};

class Attention : public torch::nn::Module {
 public:
  Attention(const ModelConfig& config, const torch::TensorOptions& options);
  // x [B, T, hidden] -> [B, T, hidden]. With `only` ([B] int64) keys and
  // values come from all T tokens but the output is computed for the one
  // position only[b] of each row: [B, 1, hidden].
  torch::Tensor forward(const torch::Tensor& x, const AttentionContext& context, int64_t layer,
                        const torch::Tensor& only = {}) const;
  // The bf16 CPU decode fast path (decode_fusion.h): x [B, 1, hidden]
  // normalised, -> residual + attention(x). Only when
  // DecoderLayer::fused_decode_applies.
  torch::Tensor forward_decode(const torch::Tensor& x, const AttentionContext& context, int64_t layer,
                               const torch::Tensor& residual) const;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, o_proj;
  std::shared_ptr<RMSNorm> q_norm, k_norm;  // qwen3 only

 private:
  int64_t heads_, kv_heads_, head_dim_;
};

// down(silu(gate(x)) * up(x))
class MLP : public torch::nn::Module {
 public:
  MLP(const ModelConfig& config, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x) const;
  // The fast path's form: residual + forward(x), fused (decode_fusion.h).
  torch::Tensor forward_decode(const torch::Tensor& x, const torch::Tensor& residual) const;
  std::shared_ptr<Linear> gate_proj, up_proj, down_proj;
};

class DecoderLayer : public torch::nn::Module {
 public:
  DecoderLayer(const ModelConfig& config, const torch::TensorOptions& options);
  // `only` as in Attention::forward: [B, 1, hidden] at those positions.
  torch::Tensor forward(const torch::Tensor& x, const AttentionContext& context, int64_t layer,
                        const torch::Tensor& only = {}) const;
  std::shared_ptr<Attention> self_attn;
  std::shared_ptr<MLP> mlp;
  std::shared_ptr<RMSNorm> input_layernorm, post_attention_layernorm;

  // True when forward takes the fused decode path (decode_fusion.h): one
  // token per row, few bf16 CPU rows, no autograd, no adapter on any
  // projection, no shared cache prefix.
  bool fused_decode_applies(const torch::Tensor& x, const AttentionContext& context) const;
};

}  // namespace upm
