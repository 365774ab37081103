#include "upm/model/causal_lm.h"

#include <limits>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/model/kv_cache.h"

namespace upm {

DecoderModel::DecoderModel(const ModelConfig& c, const torch::TensorOptions& options) {
  embed_tokens = register_module("embed_tokens", std::make_shared<Embedding>(c.vocab_size, c.hidden_size, options));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(std::make_shared<DecoderLayer>(c, options));
  norm = register_module("norm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps, options));
}

CausalLM::CausalLM(const ModelConfig& config, const ModelRuntime& runtime, InitMode init, uint64_t seed)
    : config_(config),
      device_(runtime_device(runtime)),
      dtype_(runtime_dtype(runtime, config)),
      attention_kernel_(attention_kernel_from_name(runtime.attention)),
      rotary_(config) {
  auto options = torch::TensorOptions().dtype(dtype_).device(device_);
  model = register_module("model", std::make_shared<DecoderModel>(config, options));
  if (!config.tie_word_embeddings) {
    lm_head =
        register_module("lm_head", std::make_shared<Linear>(config.hidden_size, config.vocab_size, false, options));
  }
  if (init == InitMode::random) init_random(seed);
}

void CausalLM::init_random(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    if (name.size() >= 11 && name.compare(name.size() - 11, 11, "norm.weight") == 0) {
      p.fill_(1.0);
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      p.zero_();
    } else {
      // Drawn in fp32 on the CPU so that a seed gives the same model on any device.
      p.copy_(torch::empty(p.sizes(), torch::kFloat).normal_(0.0, config_.initializer_range, generator));
    }
  }
}

namespace {

// [B, 1, T, S] additive fp32 mask: query i of row b (stored at entry
// old_length[b] + i) sees entry j iff j <= that index and j holds a real token
// (and, with segments [B, T] and no cache, j is in segment 0 or in i's).
torch::Tensor attention_mask(const torch::Tensor& key_valid, const torch::Tensor& old_lengths, int64_t T,
                             const torch::Tensor& segments = {}) {
  const int64_t S = key_valid.size(1);
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(key_valid.device());
  torch::Tensor query_index = old_lengths.unsqueeze(1) + torch::arange(T, long_opts);              // [B, T]
  torch::Tensor causal = torch::arange(S, long_opts).view({1, 1, S}) <= query_index.unsqueeze(2);  // [B, T, S]
  torch::Tensor allowed = causal.logical_and(key_valid.unsqueeze(1));
  if (segments.defined()) {
    const torch::Tensor keys = segments.unsqueeze(1);  // [B, 1, S]
    allowed = allowed.logical_and(keys.eq(0).logical_or(keys.eq(segments.unsqueeze(2))));
  }
  torch::Tensor mask = torch::zeros(allowed.sizes(), key_valid.options().dtype(torch::kFloat));
  // The lowest finite value, not -inf: a row with no visible key (a padding
  // query) then softmaxes to a harmless uniform row instead of NaN.
  mask.masked_fill_(allowed.logical_not(), std::numeric_limits<float>::lowest());
  return mask.unsqueeze(1);
}

}  // namespace

ForwardOutput CausalLM::forward(const ForwardInput& in) {
  const bool embeds = in.inputs_embeds.defined();
  if (embeds && (in.inputs_embeds.dim() != 3 || in.inputs_embeds.size(2) != config_.hidden_size)) {
    throw Error("CausalLM::forward: inputs_embeds must be [B, T, hidden]");
  }
  if (!embeds && (!in.input_ids.defined() || in.input_ids.dim() != 2))
    throw Error("CausalLM::forward: input_ids must be [B, T]");
  const torch::Tensor& shape = embeds ? in.inputs_embeds : in.input_ids;
  const int64_t B = shape.size(0), T = shape.size(1);
  torch::Tensor valid = in.attention_mask.defined()
                            ? in.attention_mask.to(device_).ne(0)
                            : torch::ones({B, T}, torch::TensorOptions().dtype(torch::kBool).device(device_));
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device_);

  std::vector<int64_t> slots = in.slots;
  if (slots.empty()) {
    for (int64_t b = 0; b < B; ++b) slots.push_back(b);
  }
  if (int64_t(slots.size()) != B) throw Error("CausalLM::forward: one cache slot per row expected");
  torch::Tensor segments;
  if (in.segment_ids.defined()) {
    if (in.cache) throw Error("CausalLM::forward: segment_ids cannot be used with a cache");
    if (in.segment_ids.dim() != 2 || in.segment_ids.size(0) != B || in.segment_ids.size(1) != T) {
      throw Error("CausalLM::forward: segment_ids must be [B, T]");
    }
    segments = in.segment_ids.to(device_, torch::kLong);
  }

  AttentionContext ctx;
  KVCacheStep step;
  torch::Tensor old_lengths = torch::zeros({B}, long_opts);
  torch::Tensor base_positions = torch::zeros({B}, long_opts);
  torch::Tensor key_valid = valid;
  if (in.cache) {
    step = in.cache->begin_step(slots, valid, in.prefix_slot, in.prefix_length);
    std::vector<int64_t> positions, entries_before;
    for (size_t b = 0; b < slots.size(); ++b) {
      positions.push_back(step.prefix_positions + in.cache->next_position(slots[b]));
      entries_before.push_back(step.prefix_length + step.old_lengths[b]);  // keys before the row's first new one
    }
    old_lengths = torch::tensor(entries_before, torch::kLong).to(device_);
    base_positions = torch::tensor(positions, torch::kLong).to(device_);
    key_valid = step.key_valid;
    ctx.cache = in.cache;
    ctx.step = &step;
  }
  torch::Tensor positions = in.position_ids.defined()
                                ? in.position_ids.to(device_, torch::kLong)
                                : (base_positions.unsqueeze(1) + valid.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
  std::tie(ctx.cos, ctx.sin) = rotary_.tables(positions, dtype_);
  ctx.kernel = attention_kernel_;
  // Every key real and as many keys as queries (nothing cached before them):
  // the mask is the plain causal one.
  ctx.causal = !segments.defined() && key_valid.size(1) == T && key_valid.all().item<bool>();
  // SDPA takes a plain causal pass as is_causal; `hidden_at` picks mask rows.
  if (!(ctx.causal && ctx.kernel == AttentionKernel::sdpa && !in.hidden_at.defined())) {
    ctx.mask = attention_mask(key_valid, old_lengths, T, segments);
  }

  torch::Tensor h = embeds ? in.inputs_embeds.to(device_, dtype_)
                           : model->embed_tokens->forward(in.input_ids.to(device_, torch::kLong));
  torch::Tensor only;
  if (in.hidden_at.defined()) {
    if (in.hidden_at.dim() != 1 || in.hidden_at.size(0) != B) throw Error("CausalLM::forward: hidden_at must be [B]");
    only = in.hidden_at.to(device_, torch::kLong);
    if (only.min().item<int64_t>() < 0 || only.max().item<int64_t>() >= T) {
      throw Error("CausalLM::forward: hidden_at outside [0, " + std::to_string(T) + ")");
    }
  }
  const int64_t L = int64_t(model->layers->size());
  for (int64_t l = 0; l < L; ++l) {
    // Only the last layer can skip positions: earlier layers' outputs at
    // every position feed the next layer's keys and values.
    h = model->layers->ptr<DecoderLayer>(l)->forward(h, ctx, l, l + 1 == L ? only : torch::Tensor());
  }
  ForwardOutput out;
  out.hidden = model->norm->forward(h);
  const int64_t Tout = out.hidden.size(1);
  if (in.logits_for == LogitsFor::all) out.logits = logits(out.hidden);
  if (in.logits_for == LogitsFor::last) out.logits = logits(out.hidden.narrow(1, Tout - 1, 1));
  if (in.cache) in.cache->commit_step(step);
  return out;
}

torch::Tensor CausalLM::logits(const torch::Tensor& hidden) const {
  if (lm_head) return lm_head->forward(hidden);
  // Tied: the embedding matrix as a bias-free projection (Linear's fast path for one row).
  Linear tied(0, 0, false, hidden.options());
  tied.weight = model->embed_tokens->weight;
  return tied.forward(hidden);
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::hf_tensors() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace upm
