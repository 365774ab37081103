#pragma once
// Keys and values of past tokens, preallocated for a fixed number of
// sequences ("slots") and a fixed length, so that decoding one token at a
// time allocates nothing. Each slot has its own length, so a GRPO group can
// prefill a prompt once, copy that prefix to G slots and decode them together.
//
// Every stored entry also records whether it is a real token or padding; the
// model masks padding keys out of attention and counts only real tokens for
// positions. Appending past max_length throws.

#include <cstdint>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <torch/types.h>

namespace upm {

struct ModelConfig;

// One forward pass's append of T entries to some slots (made by begin_step,
// used by every layer, finished by commit_step). For the model's use.
struct KVCacheStep {
  std::vector<int64_t> slots;        // cache slot of each batch row
  std::vector<int64_t> old_lengths;  // entries held before this step, per row
  int64_t new_tokens = 0;            // T
  int64_t key_length = 0;            // keys to attend over: max(old_lengths) + T
  bool contiguous = false;           // slots are first..first+B-1 (views, no gather)
  torch::Tensor key_valid;           // [B, prefix_length + key_length] bool: real token stored there
  std::vector<int64_t> real_tokens;  // real (unpadded) tokens appended per row
  // A read-only prefix shared by every row: rows attend first to the first
  // prefix_length entries of prefix_slot, then to their own slot's entries.
  int64_t prefix_slot = -1;
  int64_t prefix_length = 0;
  int64_t prefix_positions = 0;  // real tokens in the prefix (added to each row's positions)
};

class KVCache {
 public:
  KVCache(const ModelConfig& config, int64_t max_sequences, int64_t max_length, c10::ScalarType dtype,
          c10::Device device);

  int64_t max_sequences() const { return static_cast<int64_t>(lengths_.size()); }
  int64_t max_length() const { return max_length_; }
  int64_t num_layers() const { return static_cast<int64_t>(keys_.size()); }

  // Entries held by `slot`, padding included.
  int64_t length(int64_t slot) const;
  // Real tokens held by `slot`: the rotary position of its next real token.
  int64_t next_position(int64_t slot) const;

  // Empties one slot / every slot.
  void reset(int64_t slot);
  void reset_all();
  // Makes `dst` hold the first `n` entries of `src` (src == dst: like keep()).
  void copy_prefix(int64_t src, int64_t dst, int64_t n);
  // Keeps the first `n` entries of `slot` (rolls back a speculative suffix).
  void keep(int64_t slot, int64_t n);

  // --- for CausalLM::forward ---
  // Validates room for T = new_valid.size(1) entries in each slot and records
  // which are real tokens. Throws InputError on overflow. With prefix_slot >= 0
  // every row also attends to the first prefix_length entries of that slot,
  // read in place (no copy; the slot must not be one of `slots`): many
  // continuations of one history without copying its keys and values.
  KVCacheStep begin_step(const std::vector<int64_t>& slots, const torch::Tensor& new_valid, int64_t prefix_slot = -1,
                         int64_t prefix_length = 0);
  // Stores this layer's new keys/values ([B, KVH, T, D]) and returns every key
  // and value to attend over ([B, KVH, key_length, D]).
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const KVCacheStep& step, const torch::Tensor& k,
                                                 const torch::Tensor& v);
  // The shared prefix's keys and values of `layer`, [KVH, prefix_length, D] views.
  std::pair<torch::Tensor, torch::Tensor> prefix(int64_t layer, const KVCacheStep& step) const;
  // Makes the step's entries part of the slots' lengths.
  void commit_step(const KVCacheStep& step);

 private:
  void check_slot(int64_t slot) const;
  torch::Tensor rows(const torch::Tensor& all, const KVCacheStep& step) const;

  int64_t max_length_;
  std::vector<torch::Tensor> keys_;    // per layer [S, KVH, L, D]
  std::vector<torch::Tensor> values_;  // per layer [S, KVH, L, D]
  torch::Tensor valid_;                // [S, L] bool
  std::vector<int64_t> lengths_;
  std::vector<int64_t> positions_;
};

}  // namespace upm
