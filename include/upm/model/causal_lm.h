#pragma once
// The decoder-only causal LM (Llama / Qwen2 / Qwen3 families) as a
// torch::nn::Module whose named_parameters() are exactly the tensor names of
// a Hugging Face checkpoint:
//   model.embed_tokens.weight
//   model.layers.N.self_attn.{q,k,v,o}_proj.weight   (+ q/k/v .bias: qwen2)
//   model.layers.N.self_attn.{q,k}_norm.weight        (qwen3)
//   model.layers.N.mlp.{gate,up,down}_proj.weight
//   model.layers.N.{input,post_attention}_layernorm.weight
//   model.norm.weight
//   lm_head.weight                                    (unless tie_word_embeddings)
//
// Forward over a batch:
//   ForwardInput in;
//   in.input_ids = ids;                 // [B, T] int64
//   in.attention_mask = mask;           // [B, T] 1 real / 0 padding (left or right); optional
//   in.cache = &cache;                  // optional: attends to the slots' earlier tokens and appends these
//   auto out = lm.forward(in);          // out.logits [B, T, V] (or [B, 1, V] with LogitsFor::last)
// Positions default to the count of real tokens before each one (cache included).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include "upm/model/layers.h"
#include "upm/model/model_config.h"
#include "upm/model/model_runtime.h"

namespace upm {

class KVCache;

enum class LogitsFor { all, last, none };

struct ForwardInput {
  torch::Tensor input_ids;  // [B, T] int64
  // [B, T, hidden]: vectors fed instead of the token embeddings of input_ids
  // (soft prompts); when defined, input_ids is ignored and may be undefined.
  torch::Tensor inputs_embeds;
  torch::Tensor attention_mask;  // [B, T], nonzero = real token; undefined = all real
  torch::Tensor position_ids;    // [B, T] int64; undefined = counted from the mask and the cache
  // [B, T] int64, optional, no cache: several continuations of one prefix
  // packed into a row. A token sees an earlier token only when that one's
  // segment is 0 (the shared prefix) or its own, so the prefix is computed
  // once for all of them. Give position_ids too (each continuation's
  // positions run on from the prefix's end).
  torch::Tensor segment_ids;
  KVCache* cache = nullptr;    // optional
  std::vector<int64_t> slots;  // cache slot of each row; empty = 0..B-1
  // With a cache: every row first attends to the first prefix_length entries
  // of cache slot prefix_slot, read in place (a shared history; see
  // KVCache::begin_step), then to its own slot. -1 = none.
  int64_t prefix_slot = -1;
  int64_t prefix_length = 0;
  LogitsFor logits_for = LogitsFor::all;  // `last`: only position T-1 of each row
  // [B] int64, optional: the one position per row whose output is wanted
  // (an embedding read at each row's last real token). The last layer then
  // computes keys and values for every token (they still join the cache) but
  // queries, attention output and MLP only at these positions, and `hidden`
  // (and logits) are [B, 1, ...]. Same values as the full forward, gathered.
  torch::Tensor hidden_at;
};

struct ForwardOutput {
  torch::Tensor hidden;  // [B, T, hidden] ([B, 1, hidden] with hidden_at), after the final norm
  torch::Tensor logits;  // [B, T, V], [B, 1, V] or undefined (see LogitsFor); in the compute dtype
};

// The decoder stack ("model." prefix in HF names).
class DecoderModel : public torch::nn::Module {
 public:
  DecoderModel(const ModelConfig& config, const torch::TensorOptions& options);
  std::shared_ptr<Embedding> embed_tokens;
  torch::nn::ModuleList layers;
  std::shared_ptr<RMSNorm> norm;
};

enum class InitMode {
  random,  // HF's init: normal(0, initializer_range) weights, zero biases, unit norms
  empty,   // uninitialised, to be filled by load_weights
};

class CausalLM : public torch::nn::Module {
 public:
  CausalLM(const ModelConfig& config, const ModelRuntime& runtime, InitMode init = InitMode::random, uint64_t seed = 0);

  ForwardOutput forward(const ForwardInput& input);
  // Final hidden states -> vocabulary logits.
  torch::Tensor logits(const torch::Tensor& hidden) const;

  // HF parameter-name -> tensor (lm_head.weight absent when tied).
  std::vector<std::pair<std::string, torch::Tensor>> hf_tensors() const;

  const ModelConfig& config() const { return config_; }
  c10::Device device() const { return device_; }
  c10::ScalarType dtype() const { return dtype_; }
  // How Attention::forward computes (attention_kernel.h); from
  // ModelRuntime::attention, switchable between passes.
  AttentionKernel attention_kernel() const { return attention_kernel_; }
  void set_attention_kernel(AttentionKernel kernel) { attention_kernel_ = kernel; }

  std::shared_ptr<DecoderModel> model;
  std::shared_ptr<Linear> lm_head;  // null when tie_word_embeddings

 private:
  void init_random(uint64_t seed);

  ModelConfig config_;
  c10::Device device_;
  c10::ScalarType dtype_;
  AttentionKernel attention_kernel_;
  RotaryEmbedding rotary_;
};

}  // namespace upm
