#include <algorithm>
#include <atomic>
#include <cmath>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/model/attention_chunking.h"
#include "upm/model/attention_kernel.h"
#include "upm/model/bf16_gemv.h"
#include "upm/model/decode_fusion.h"
#include "upm/model/kv_cache.h"
#include "upm/model/layers.h"
#include "upm/model/prefill_fusion.h"

namespace upm {

Attention::Attention(const ModelConfig& c, const torch::TensorOptions& options)
    : heads_(c.num_attention_heads), kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim) {
  q_proj = register_module("q_proj", std::make_shared<Linear>(c.hidden_size, c.q_size(), c.attention_bias, options));
  k_proj = register_module("k_proj", std::make_shared<Linear>(c.hidden_size, c.kv_size(), c.attention_bias, options));
  v_proj = register_module("v_proj", std::make_shared<Linear>(c.hidden_size, c.kv_size(), c.attention_bias, options));
  o_proj = register_module("o_proj", std::make_shared<Linear>(c.q_size(), c.hidden_size, false, options));
  if (c.qk_norm) {
    q_norm = register_module("q_norm", std::make_shared<RMSNorm>(c.head_dim, c.rms_norm_eps, options));
    k_norm = register_module("k_norm", std::make_shared<RMSNorm>(c.head_dim, c.rms_norm_eps, options));
  }
}

namespace {

std::atomic<int64_t> score_budget{int64_t(1) << 26};
std::atomic<int64_t> sliced_passes{0};
std::atomic<int64_t> sdpa_passes{0};

}  // namespace

AttentionKernel attention_kernel_from_name(const std::string& name) {
  if (name == "sdpa") return AttentionKernel::sdpa;
  if (name == "eager") return AttentionKernel::eager;
  throw InputError(Location{"", 0, "runtime.attention"},
                   "unknown attention kernel \"" + name + "\" (expected sdpa or eager)");
}

std::string attention_kernel_name(AttentionKernel kernel) { return kernel == AttentionKernel::sdpa ? "sdpa" : "eager"; }

int64_t attention_sdpa_passes() { return sdpa_passes.load(); }

void set_attention_score_budget(int64_t elements) { score_budget.store(std::max<int64_t>(0, elements)); }
int64_t attention_score_budget() { return score_budget.load(); }
int64_t attention_sliced_passes() { return sliced_passes.load(); }

int64_t attention_query_rows_per_slice(int64_t batch, int64_t heads, int64_t queries, int64_t keys) {
  const int64_t budget = score_budget.load();
  const int64_t per_row = std::max<int64_t>(1, batch * heads * keys);
  if (budget == 0 || per_row * queries <= budget) return queries;
  return std::max<int64_t>(1, budget / per_row);
}

namespace {

// Scaled scores [B, KVH, groups*n, S] of n query positions plus the additive
// fp32 mask [B, 1, n, S] -> attention probabilities in `dtype`, same shape.
torch::Tensor probabilities(const torch::Tensor& scores, const torch::Tensor& mask, int64_t groups,
                            c10::ScalarType dtype) {
  const int64_t B = scores.size(0), KVH = scores.size(1), n = mask.size(2), S = scores.size(3);
  torch::Tensor masked = scores.to(torch::kFloat).view({B, KVH, groups, n, S}) + mask.view({B, 1, 1, n, S});
  return torch::softmax(masked, -1).to(dtype).view({B, KVH, groups * n, S});
}

// Scaled-dot-product attention of grouped query rows qg [B, KVH, groups*n, D]
// against keys/values [B, KVH, S, D], with mask [B, 1, n, S]:
// -> [B, KVH, groups*n, D].
torch::Tensor attend(const torch::Tensor& qg, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                     int64_t groups, double scale) {
  const torch::Tensor scores = torch::matmul(qg, k.transpose(2, 3)).mul_(scale);
  return torch::matmul(probabilities(scores, mask, groups, qg.scalar_type()), v);
}

// at::scaled_dot_product_attention of q [B, heads, Tq, D] against k/v
// [B, KVH, S, D] with the additive mask [B, 1, Tq, S] (undefined: causal)
// -> [B, heads, Tq, D]. Undefined where SDPA would pick its math backend
// for a masked pass: that backend holds the scores as the eager path does,
// without the eager path's fp32 softmax and query slicing. The CPU flash
// kernel takes grouped heads and the fp32 mask for fp32 and bf16 inputs; a
// CUDA kernel may lack enable_gqa with a mask, and then gets keys and values
// repeated per query head (S x heads x D more, still no score matrix).
torch::Tensor sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                   double scale) {
  const bool grouped = q.size(1) != k.size(1), causal = !mask.defined();
  const std::optional<at::Tensor> attn_mask = causal ? std::nullopt : std::optional<at::Tensor>(mask);
  constexpr int64_t math = int64_t(at::SDPBackend::math);
  auto fused = [&](const torch::Tensor& keys, const torch::Tensor& values, bool gqa) {
    return at::_fused_sdp_choice(q, keys, values, attn_mask, 0.0, causal, scale, gqa) != math;
  };
  auto run = [&](const torch::Tensor& keys, const torch::Tensor& values, bool gqa) {
    return at::scaled_dot_product_attention(q, keys, values, attn_mask, 0.0, causal, scale, gqa);
  };
  if (fused(k, v, grouped)) return run(k, v, grouped);
  if (grouped) {
    const int64_t groups = q.size(1) / k.size(1);
    const torch::Tensor kr = k.repeat_interleave(groups, 1), vr = v.repeat_interleave(groups, 1);
    if (fused(kr, vr, false)) return run(kr, vr, false);
  }
  // A causal pass built no mask for the eager path: math it is.
  return causal ? run(k, v, grouped) : torch::Tensor();
}

// x [B, T, ...] -> [B, 1, ...]: row b's entry at position only[b] (along `dim`).
torch::Tensor pick(const torch::Tensor& x, const torch::Tensor& only, int64_t dim) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  std::vector<int64_t> index_shape(shape.size(), 1);
  index_shape[0] = x.size(0);
  torch::Tensor index = only.to(x.device(), torch::kLong).view(index_shape);
  shape[size_t(dim)] = 1;
  return x.gather(dim, index.expand(shape));
}

// x [B, T, H, D] contiguous and its tables [B, 1, T, D], all bf16 on the
// CPU without autograd: the fused rotary kernel takes them.
bool fused_rotary_applies(const torch::Tensor& x, const torch::Tensor& cos) {
  return fused_prefill_applies({x, cos}) && x.is_contiguous() && cos.dim() == 4 && cos.size(0) == x.size(0) &&
         cos.size(1) == 1 && cos.size(2) == x.size(1) && cos.size(3) == x.size(3);
}

}  // namespace

torch::Tensor Attention::forward(const torch::Tensor& x, const AttentionContext& ctx, int64_t layer,
                                 const torch::Tensor& only) const {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t groups = heads_ / kv_heads_;
  // With `only`, queries exist at one position per row (Tq = 1); keys and
  // values are still made for all T tokens, as later tokens need them.
  const torch::Tensor xq = only.defined() ? pick(x, only, 1) : x;
  const int64_t Tq = xq.size(1);
  // Projections viewed per head: [B, T, heads, D]; qwen3 normalises each head.
  torch::Tensor q = q_proj->forward(xq).view({B, Tq, heads_, head_dim_});
  torch::Tensor k = k_proj->forward(x).view({B, T, kv_heads_, head_dim_});
  torch::Tensor v = v_proj->forward(x).view({B, T, kv_heads_, head_dim_});
  if (q_norm) {
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  // -> [B, heads, T, D], rotated by position.
  const torch::Tensor q_cos = only.defined() ? pick(ctx.cos, only, 2) : ctx.cos;
  const torch::Tensor q_sin = only.defined() ? pick(ctx.sin, only, 2) : ctx.sin;
  if (fused_rotary_applies(q, q_cos) && fused_rotary_applies(k, ctx.cos)) {
    // q and k are fresh projection outputs: rotated in place.
    fused_rotary_(q, q_cos, q_sin);
    fused_rotary_(k, ctx.cos, ctx.sin);
    q = q.transpose(1, 2);
    k = k.transpose(1, 2);
  } else {
    q = RotaryEmbedding::apply(q.transpose(1, 2), q_cos, q_sin);
    k = RotaryEmbedding::apply(k.transpose(1, 2), ctx.cos, ctx.sin);
  }
  v = v.transpose(1, 2);
  if (ctx.cache) std::tie(k, v) = ctx.cache->append(layer, *ctx.step, k, v);
  const double scale = 1.0 / std::sqrt(double(head_dim_));
  const bool shared = ctx.step && ctx.step->prefix_length > 0;
  if (ctx.kernel == AttentionKernel::sdpa && !shared) {
    // is_causal only where queries and keys are the same T positions.
    const torch::Tensor mask = ctx.causal && !only.defined() ? torch::Tensor()
                               : only.defined()              ? pick(ctx.mask, only, 2)
                                                             : ctx.mask;
    const torch::Tensor out = sdpa(q, k, v, mask, scale);  // [B, heads, Tq, D]
    if (out.defined()) {
      ++sdpa_passes;
      return o_proj->forward(out.transpose(1, 2).reshape({B, Tq, heads_ * head_dim_}));
    }
  }

  // Grouped-query attention without repeating k/v: the `groups` query heads
  // sharing one kv head are stacked along the query axis.
  // q: [B, KVH, groups*T, D]; scores: [B, KVH, groups, T, S]
  torch::Tensor qg = q.reshape({B, kv_heads_, groups * Tq, head_dim_});
  const torch::Tensor mask = only.defined() ? pick(ctx.mask, only, 2) : ctx.mask;
  // A shared read-only prefix (KVCache::prefix): every row's queries of one
  // kv head are stacked into one matrix against the prefix's single copy of
  // keys (and later values), so the prefix is never copied per row. SDPA
  // cannot take it without that copy: one softmax spans the prefix and the
  // row's own keys, and SDPA's keys are one tensor per row (concatenating
  // the prefix to each row's keys is the copy this path avoids; two SDPA
  // calls merged by their log-sum-exp need an output SDPA does not return).
  if (!shared) {
    const bool keep_graph =
        at::GradMode::is_enabled() && (qg.requires_grad() || k.requires_grad() || v.requires_grad());
    const int64_t rows = keep_graph ? Tq : attention_query_rows_per_slice(B, heads_, Tq, k.size(2));
    torch::Tensor out;
    if (rows >= Tq) {
      out = attend(qg, k, v, mask, groups, scale);
    } else {
      // Query slices (attention_chunking.h): [B, KVH, groups, rows, D] at a time.
      ++sliced_passes;
      const torch::Tensor q5 = qg.view({B, kv_heads_, groups, Tq, head_dim_});
      std::vector<torch::Tensor> parts;
      for (int64_t t0 = 0; t0 < Tq; t0 += rows) {
        const int64_t n = std::min(rows, Tq - t0);
        const torch::Tensor slice = q5.narrow(3, t0, n).reshape({B, kv_heads_, groups * n, head_dim_});
        parts.push_back(
            attend(slice, k, v, mask.narrow(2, t0, n), groups, scale).view({B, kv_heads_, groups, n, head_dim_}));
      }
      out = torch::cat(parts, 3);
    }
    // [B, KVH, groups*T, D] -> [B, heads, T, D] -> [B, T, heads*D]
    out = out.reshape({B, heads_, Tq, head_dim_});
    return o_proj->forward(out.transpose(1, 2).reshape({B, Tq, heads_ * head_dim_}));
  }
  torch::Tensor scores = torch::matmul(qg, k.transpose(2, 3)).mul_(scale);
  torch::Tensor prefix_values;
  {
    torch::Tensor prefix_keys;
    std::tie(prefix_keys, prefix_values) = ctx.cache->prefix(layer, *ctx.step);  // [KVH, P, D]
    const int64_t P = prefix_keys.size(1);
    torch::Tensor q_stacked = qg.transpose(0, 1).reshape({kv_heads_, B * groups * Tq, head_dim_});
    torch::Tensor prefix_scores = torch::matmul(q_stacked, prefix_keys.transpose(1, 2)).mul_(scale);
    scores = torch::cat({prefix_scores.view({kv_heads_, B, groups * Tq, P}).transpose(0, 1), scores}, -1);
  }
  const int64_t S = scores.size(3);
  const torch::Tensor probs = probabilities(scores, mask, groups, q.scalar_type());
  const int64_t P = prefix_values.size(1);
  torch::Tensor prefix_probs = probs.narrow(3, 0, P).transpose(0, 1).reshape({kv_heads_, B * groups * Tq, P});
  torch::Tensor out =
      torch::matmul(prefix_probs, prefix_values).view({kv_heads_, B, groups * Tq, head_dim_}).transpose(0, 1) +
      torch::matmul(probs.narrow(3, P, S - P), v);
  // [B, KVH, groups*T, D] -> [B, heads, T, D] -> [B, T, heads*D]
  out = out.reshape({B, heads_, Tq, head_dim_});
  return o_proj->forward(out.transpose(1, 2).reshape({B, Tq, heads_ * head_dim_}));
}

torch::Tensor Attention::forward_decode(const torch::Tensor& x, const AttentionContext& ctx, int64_t layer,
                                        const torch::Tensor& residual) const {
  const int64_t B = x.size(0);
  auto qkv =
      bf16_gemv_multi(x, {q_proj->weight, k_proj->weight, v_proj->weight}, {q_proj->bias, k_proj->bias, v_proj->bias});
  torch::Tensor q = qkv[0].view({B, 1, heads_, head_dim_});
  torch::Tensor k = qkv[1].view({B, 1, kv_heads_, head_dim_});
  if (q_norm) {
    q = q_norm->forward(q).contiguous();
    k = k_norm->forward(k).contiguous();
  }
  fused_rotary_(q, ctx.cos, ctx.sin);
  fused_rotary_(k, ctx.cos, ctx.sin);
  torch::Tensor keys = k.transpose(1, 2), values = qkv[2].view({B, 1, kv_heads_, head_dim_}).transpose(1, 2);
  if (ctx.cache) std::tie(keys, values) = ctx.cache->append(layer, *ctx.step, keys, values);
  const torch::Tensor out = fused_decode_attention(q, keys, values, ctx.mask, 1.0 / std::sqrt(double(head_dim_)));
  return bf16_gemv_add(out, o_proj->weight, residual);
}

MLP::MLP(const ModelConfig& c, const torch::TensorOptions& options) {
  gate_proj =
      register_module("gate_proj", std::make_shared<Linear>(c.hidden_size, c.intermediate_size, false, options));
  up_proj = register_module("up_proj", std::make_shared<Linear>(c.hidden_size, c.intermediate_size, false, options));
  down_proj =
      register_module("down_proj", std::make_shared<Linear>(c.intermediate_size, c.hidden_size, false, options));
}

torch::Tensor MLP::forward(const torch::Tensor& x) const {
  const torch::Tensor gate = gate_proj->forward(x), up = up_proj->forward(x);
  if (fused_prefill_applies({gate, up}) && gate.sizes() == up.sizes())
    return down_proj->forward(fused_silu_mul(gate, up));
  return down_proj->forward(torch::silu(gate) * up);
}

torch::Tensor MLP::forward_decode(const torch::Tensor& x, const torch::Tensor& residual) const {
  return bf16_gemv_add(bf16_gemv_swiglu(x, gate_proj->weight, up_proj->weight), down_proj->weight, residual);
}

DecoderLayer::DecoderLayer(const ModelConfig& c, const torch::TensorOptions& options) {
  self_attn = register_module("self_attn", std::make_shared<Attention>(c, options));
  mlp = register_module("mlp", std::make_shared<MLP>(c, options));
  input_layernorm =
      register_module("input_layernorm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps, options));
  post_attention_layernorm =
      register_module("post_attention_layernorm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps, options));
}

bool DecoderLayer::fused_decode_applies(const torch::Tensor& x, const AttentionContext& ctx) const {
  if (!fused_decode_enabled() || x.dim() != 3 || x.size(1) != 1 || x.size(0) > bf16_gemv_max_rows()) return false;
  if (!bf16_gemv_applies(x, self_attn->q_proj->weight, self_attn->q_proj->bias)) return false;
  for (const Linear* linear :
       {self_attn->q_proj.get(), self_attn->k_proj.get(), self_attn->v_proj.get(), self_attn->o_proj.get(),
        mlp->gate_proj.get(), mlp->up_proj.get(), mlp->down_proj.get()}) {
    if (linear->adapter || !bf16_gemv_weight_applies(linear->weight, linear->bias)) return false;
  }
  // The fused epilogues add no bias after o_proj and the MLP.
  if (self_attn->o_proj->bias.defined() || mlp->gate_proj->bias.defined() || mlp->up_proj->bias.defined() ||
      mlp->down_proj->bias.defined())
    return false;
  for (const RMSNorm* norm : {input_layernorm.get(), post_attention_layernorm.get()}) {
    if (!fused_rms_norm_applies(x, norm->weight)) return false;
  }
  if (ctx.step && ctx.step->prefix_length > 0) return false;
  return ctx.mask.defined() && ctx.mask.scalar_type() == torch::kFloat && ctx.mask.device().is_cpu() &&
         ctx.cos.scalar_type() == torch::kBFloat16 && ctx.sin.scalar_type() == torch::kBFloat16;
}

torch::Tensor DecoderLayer::forward(const torch::Tensor& x, const AttentionContext& ctx, int64_t layer,
                                    const torch::Tensor& only) const {
  // One token per row: `only` can only name that token.
  if (fused_decode_applies(x, ctx)) {
    const torch::Tensor h = self_attn->forward_decode(input_layernorm->forward(x), ctx, layer, x);
    return mlp->forward_decode(post_attention_layernorm->forward(h), h);
  }
  const torch::Tensor residual = only.defined() ? pick(x, only, 1) : x;
  torch::Tensor h = residual + self_attn->forward(input_layernorm->forward(x), ctx, layer, only);
  return h + mlp->forward(post_attention_layernorm->forward(h));
}

}  // namespace upm
