#include "upm/model/kv_cache.h"

#include <algorithm>

#include "upm/core/error.h"
#include "upm/model/model_config.h"

namespace upm {

KVCache::KVCache(const ModelConfig& config, int64_t max_sequences, int64_t max_length, c10::ScalarType dtype,
                 c10::Device device)
    : max_length_(max_length), lengths_(max_sequences, 0), positions_(max_sequences, 0) {
  if (max_sequences <= 0 || max_length <= 0) throw Error("KVCache: sizes must be positive");
  auto options = torch::TensorOptions().dtype(dtype).device(device);
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
    keys_.push_back(torch::zeros({max_sequences, config.num_key_value_heads, max_length, config.head_dim}, options));
    values_.push_back(torch::zeros_like(keys_.back()));
  }
  valid_ = torch::zeros({max_sequences, max_length}, options.dtype(torch::kBool));
}

void KVCache::check_slot(int64_t slot) const {
  if (slot < 0 || slot >= max_sequences()) {
    throw Error("KVCache: slot " + std::to_string(slot) + " out of range [0, " + std::to_string(max_sequences()) + ")");
  }
}

int64_t KVCache::length(int64_t slot) const {
  check_slot(slot);
  return lengths_[slot];
}

int64_t KVCache::next_position(int64_t slot) const {
  check_slot(slot);
  return positions_[slot];
}

void KVCache::reset(int64_t slot) {
  check_slot(slot);
  lengths_[slot] = 0;
  positions_[slot] = 0;
}

void KVCache::reset_all() {
  std::fill(lengths_.begin(), lengths_.end(), 0);
  std::fill(positions_.begin(), positions_.end(), 0);
}

void KVCache::copy_prefix(int64_t src, int64_t dst, int64_t n) {
  check_slot(src);
  check_slot(dst);
  if (n < 0 || n > lengths_[src]) {
    throw Error("KVCache: cannot copy " + std::to_string(n) + " entries of slot " + std::to_string(src) + " holding " +
                std::to_string(lengths_[src]));
  }
  if (src != dst && n > 0) {
    for (size_t l = 0; l < keys_.size(); ++l) {
      keys_[l][dst].narrow(1, 0, n).copy_(keys_[l][src].narrow(1, 0, n));
      values_[l][dst].narrow(1, 0, n).copy_(values_[l][src].narrow(1, 0, n));
    }
    valid_[dst].narrow(0, 0, n).copy_(valid_[src].narrow(0, 0, n));
  }
  lengths_[dst] = n;
  // Entries past a prefix may be padding: count the real tokens kept.
  positions_[dst] = n == 0 ? 0 : valid_[dst].narrow(0, 0, n).sum().item<int64_t>();
}

void KVCache::keep(int64_t slot, int64_t n) { copy_prefix(slot, slot, n); }

KVCacheStep KVCache::begin_step(const std::vector<int64_t>& slots, const torch::Tensor& new_valid, int64_t prefix_slot,
                                int64_t prefix_length) {
  KVCacheStep step;
  if (prefix_slot >= 0) {
    check_slot(prefix_slot);
    if (std::find(slots.begin(), slots.end(), prefix_slot) != slots.end()) {
      throw Error("KVCache: the shared prefix slot cannot also be a row's own slot");
    }
    if (prefix_length < 0 || prefix_length > lengths_[prefix_slot]) {
      throw Error("KVCache: prefix of " + std::to_string(prefix_length) + " entries, slot " +
                  std::to_string(prefix_slot) + " holds " + std::to_string(lengths_[prefix_slot]));
    }
    step.prefix_slot = prefix_slot;
    step.prefix_length = prefix_length;
    step.prefix_positions =
        prefix_length == 0 ? 0 : valid_[prefix_slot].narrow(0, 0, prefix_length).sum().item<int64_t>();
  }
  step.slots = slots;
  step.new_tokens = new_valid.size(1);
  int64_t longest = 0;
  std::vector<int64_t> sorted = slots;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw Error("KVCache: a slot appears twice in one step");
  for (int64_t slot : slots) {
    check_slot(slot);
    if (lengths_[slot] + step.new_tokens > max_length_) {
      throw InputError(Location{"", 0, "kv_cache"}, "sequence in slot " + std::to_string(slot) + " holds " +
                                                        std::to_string(lengths_[slot]) + " tokens; " +
                                                        std::to_string(step.new_tokens) +
                                                        " more exceed the cache length " + std::to_string(max_length_));
    }
    step.old_lengths.push_back(lengths_[slot]);
    longest = std::max(longest, lengths_[slot]);
  }
  step.key_length = longest + step.new_tokens;
  step.contiguous = true;
  for (size_t b = 1; b < slots.size(); ++b) step.contiguous &= slots[b] == slots[0] + int64_t(b);

  torch::Tensor valid = new_valid.to(valid_.device(), torch::kBool);
  for (size_t b = 0; b < slots.size(); ++b) {
    valid_[slots[b]].narrow(0, step.old_lengths[b], step.new_tokens).copy_(valid[b]);
  }
  step.key_valid = rows(valid_, step).narrow(1, 0, step.key_length);
  if (step.prefix_length > 0) {
    torch::Tensor shared =
        valid_[prefix_slot].narrow(0, 0, prefix_length).unsqueeze(0).expand({int64_t(slots.size()), prefix_length});
    step.key_valid = torch::cat({shared, step.key_valid}, 1);
  }
  torch::Tensor counts = valid.sum(1).to(torch::kCPU);
  for (size_t b = 0; b < slots.size(); ++b) step.real_tokens.push_back(counts[b].item<int64_t>());
  return step;
}

torch::Tensor KVCache::rows(const torch::Tensor& all, const KVCacheStep& step) const {
  if (step.contiguous) return all.narrow(0, step.slots[0], int64_t(step.slots.size()));
  auto index = torch::tensor(step.slots, torch::TensorOptions().dtype(torch::kLong)).to(all.device());
  return all.index_select(0, index);
}

std::pair<torch::Tensor, torch::Tensor> KVCache::append(int64_t layer, const KVCacheStep& step, const torch::Tensor& k,
                                                        const torch::Tensor& v) {
  torch::Tensor& keys = keys_.at(layer);
  torch::Tensor& values = values_.at(layer);
  const bool same_offset = std::all_of(step.old_lengths.begin(), step.old_lengths.end(),
                                       [&](int64_t n) { return n == step.old_lengths[0]; });
  if (step.contiguous && same_offset) {
    const int64_t b = int64_t(step.slots.size());
    keys.narrow(0, step.slots[0], b).narrow(2, step.old_lengths[0], step.new_tokens).copy_(k);
    values.narrow(0, step.slots[0], b).narrow(2, step.old_lengths[0], step.new_tokens).copy_(v);
  } else {
    for (size_t b = 0; b < step.slots.size(); ++b) {
      keys[step.slots[b]].narrow(1, step.old_lengths[b], step.new_tokens).copy_(k[b]);
      values[step.slots[b]].narrow(1, step.old_lengths[b], step.new_tokens).copy_(v[b]);
    }
  }
  return {rows(keys, step).narrow(2, 0, step.key_length), rows(values, step).narrow(2, 0, step.key_length)};
}

std::pair<torch::Tensor, torch::Tensor> KVCache::prefix(int64_t layer, const KVCacheStep& step) const {
  if (step.prefix_length <= 0) throw Error("KVCache: the step has no shared prefix");
  return {keys_.at(layer)[step.prefix_slot].narrow(1, 0, step.prefix_length),
          values_.at(layer)[step.prefix_slot].narrow(1, 0, step.prefix_length)};
}

void KVCache::commit_step(const KVCacheStep& step) {
  for (size_t b = 0; b < step.slots.size(); ++b) {
    lengths_[step.slots[b]] = step.old_lengths[b] + step.new_tokens;
    positions_[step.slots[b]] += step.real_tokens[b];
  }
}

}  // namespace upm
