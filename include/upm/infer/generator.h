#pragma once
// Batched generation with a preallocated KV cache.
//
//   Generator gen(model, &tokenizer);
//   auto outs = gen.generate({prompt_a, prompt_b}, config);          // one sample each
//   auto group = gen.generate_groups({prompt}, /*group_size=*/4, config);  // a GRPO group
//
// Prompts are prefilled in passes of similar lengths (prefill_passes.h): within a pass, shorter prompts are left-padded
// (padding is masked and does not count for positions), and prompts of one length need no mask at all. Each decode step
// feeds one token per live sequence; a sequence that ends leaves the batch at once (its cache row is refilled by a live
// one, so the live rows stay in slots 0..A-1).
//
// Sequence i (in output order) draws from the random stream
// sequence_seed(config.sampling.seed, i) unless seeds are given, so a batch
// gives the same tokens as separate runs with the same seeds, and
// generate_groups({p}, G) equals generate({p, p, ..., p}) while computing the
// prompt once (prefill one row, KVCache::copy_prefix to G rows).
//
// A deadline (set_deadline) bounds the wall time of a call: a server must not
// let one request hold the model for as long as its token budget allows.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "upm/infer/generation_config.h"
#include "upm/infer/prefill_passes.h"

namespace upm {

class CausalLM;
class Tokenizer;

enum class FinishReason {
  stop_token,   // emitted a stop id (kept as the last token, left out of the text)
  stop_string,  // a stop string appeared in the text (text cut before it)
  length,       // max_new_tokens or max_length reached
  deadline,     // the Generator's deadline passed first (see Generator::set_deadline)
};
std::string finish_reason_name(FinishReason reason);

struct Generation {
  std::vector<int64_t> tokens;  // new tokens, in order
  // log p(token) under the model's own distribution (fp32 log-softmax of the
  // raw logits, before the sampling filters): what RL's old-policy ratio needs.
  std::vector<float> logprobs;
  std::string text;  // decoded, when the Generator has a tokenizer
  FinishReason finish_reason = FinishReason::length;
  std::string stop_string;  // the matched stop string, if any
};

// What the last call did; decode_rows shows sequences leaving the batch.
struct GenerationStats {
  int64_t sequences = 0;
  int64_t prefill_tokens = 0;  // real prompt tokens computed (a group's prompt once)
  int64_t prefill_passes = 0;  // forward passes over prompts
  int64_t generated_tokens = 0;
  std::vector<int64_t> decode_rows;  // rows of each decode forward pass
  double prefill_seconds = 0;
  double decode_seconds = 0;  // decode passes, sampling and stop checks
};

class Generator {
 public:
  // `tokenizer` (optional) decodes text, checks stop strings and adds its stop ids.
  explicit Generator(CausalLM& model, const Tokenizer* tokenizer = nullptr);

  // One continuation per prompt. `seeds` (empty or one per prompt) override
  // the per-sequence streams.
  std::vector<Generation> generate(const std::vector<std::vector<int64_t>>& prompts, const GenerationConfig& config,
                                   const std::vector<uint64_t>& seeds = {});

  // group_size continuations per prompt, prompt-major (outputs p*G .. p*G+G-1
  // continue prompt p); each prompt is computed once. `seeds`: empty or one
  // per output.
  std::vector<Generation> generate_groups(const std::vector<std::vector<int64_t>>& prompts, int64_t group_size,
                                          const GenerationConfig& config, const std::vector<uint64_t>& seeds = {});

  // Every later call stops decoding once `deadline` has passed, checked
  // before each prefill and after each decode step (a forward pass already
  // begun completes, so a call overruns by at most one step). Sequences still
  // running end with FinishReason::deadline, keeping the tokens they have; a
  // prompt whose prefill had not begun gets none. The tokens kept are those a
  // call without a deadline generates first. nullopt (the default): none.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) { deadline_ = deadline; }

  // How prompts are grouped into prefill passes (prefill_passes.h); the
  // defaults suit CPU and GPU alike.
  void set_prefill_limits(const PrefillPassLimits& limits) { prefill_limits_ = limits; }

  const GenerationStats& last_stats() const { return stats_; }
  CausalLM& model() { return model_; }
  const Tokenizer* tokenizer() const { return tokenizer_; }

 private:
  CausalLM& model_;
  const Tokenizer* tokenizer_;
  GenerationStats stats_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  PrefillPassLimits prefill_limits_;
};

}  // namespace upm
