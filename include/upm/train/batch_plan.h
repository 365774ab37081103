#pragma once
// Which examples form each optimizer step, decided up front and reproducibly.
//
// Per epoch: the examples are shuffled with the seed (and epoch), cut into
// windows of `bucket_batches` global batches, each window sorted by length
// (length bucketing: little padding), cut into global batches, and the order
// of the batches shuffled again. A trailing partial batch is dropped, so that
// every step sees the same number of examples and every rank an equal share.
// The plan is a pure function of (lengths, sizes, seed): a DataPosition is
// all the state a resumed run needs.

#include <cstdint>
#include <vector>

namespace upm {

struct DataPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // next global batch within the epoch
};

class BatchPlan {
 public:
  BatchPlan(std::vector<int64_t> lengths, int64_t global_batch, uint64_t seed, int64_t bucket_batches = 8);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // Example indices of the global batch at `pos`, sorted by length.
  std::vector<int64_t> batch_at(const DataPosition& pos) const;
  DataPosition next(const DataPosition& pos) const;

 private:
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch) const;

  std::vector<int64_t> lengths_;
  int64_t global_batch_;
  uint64_t seed_;
  int64_t bucket_batches_;
  int64_t batches_per_epoch_;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<std::vector<int64_t>> cached_;
};

// The share of a length-sorted global batch that `rank` of `world` trains on:
// every world-th example, so that ranks get similar lengths.
std::vector<int64_t> rank_share(const std::vector<int64_t>& batch, int rank, int world);

}  // namespace upm
