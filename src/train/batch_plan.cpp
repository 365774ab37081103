#include "upm/train/batch_plan.h"

#include <algorithm>

#include "upm/core/error.h"
#include "upm/core/random.h"

namespace upm {

BatchPlan::BatchPlan(std::vector<int64_t> lengths, int64_t global_batch, uint64_t seed, int64_t bucket_batches)
    : lengths_(std::move(lengths)),
      global_batch_(global_batch),
      seed_(seed),
      bucket_batches_(std::max<int64_t>(1, bucket_batches)) {
  if (global_batch_ < 1) throw InputError("batch plan: global batch must be >= 1");
  batches_per_epoch_ = int64_t(lengths_.size()) / global_batch_;
  if (batches_per_epoch_ == 0) {
    throw InputError("the training data has " + std::to_string(lengths_.size()) +
                     " examples, fewer than one global batch (" + std::to_string(global_batch_) +
                     " = micro_batch_size x grad_accum x world size)");
  }
}

std::vector<std::vector<int64_t>> BatchPlan::epoch_batches(int64_t epoch) const {
  std::vector<int64_t> order(lengths_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  // Golden-ratio mixing keeps the per-epoch seeds far apart.
  const uint64_t epoch_seed = seed_ ^ (0x9E3779B97F4A7C15ull * uint64_t(epoch + 1));
  seeded_shuffle(order, epoch_seed);
  order.resize(size_t(batches_per_epoch_ * global_batch_));
  const int64_t window = global_batch_ * bucket_batches_;
  auto by_length = [&](int64_t a, int64_t b) { return lengths_[a] < lengths_[b]; };
  for (int64_t start = 0; start < int64_t(order.size()); start += window) {
    auto end = order.begin() + std::min<int64_t>(start + window, int64_t(order.size()));
    std::stable_sort(order.begin() + start, end, by_length);
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t b = 0; b < batches_per_epoch_; ++b) {
    batches.emplace_back(order.begin() + b * global_batch_, order.begin() + (b + 1) * global_batch_);
  }
  std::vector<int64_t> batch_order(batches.size());
  for (size_t i = 0; i < batch_order.size(); ++i) batch_order[i] = int64_t(i);
  seeded_shuffle(batch_order, epoch_seed + 1);
  std::vector<std::vector<int64_t>> shuffled;
  for (int64_t i : batch_order) shuffled.push_back(std::move(batches[i]));
  return shuffled;
}

std::vector<int64_t> BatchPlan::batch_at(const DataPosition& pos) const {
  if (pos.epoch != cached_epoch_) {
    cached_ = epoch_batches(pos.epoch);
    cached_epoch_ = pos.epoch;
  }
  if (pos.batch < 0 || pos.batch >= batches_per_epoch_) throw Error("batch plan: position out of range");
  return cached_[pos.batch];
}

DataPosition BatchPlan::next(const DataPosition& pos) const {
  DataPosition n = pos;
  if (++n.batch >= batches_per_epoch_) {
    n.batch = 0;
    ++n.epoch;
  }
  return n;
}

std::vector<int64_t> rank_share(const std::vector<int64_t>& batch, int rank, int world) {
  std::vector<int64_t> share;
  for (size_t i = size_t(rank); i < batch.size(); i += size_t(world)) share.push_back(batch[i]);
  return share;
}

}  // namespace upm
