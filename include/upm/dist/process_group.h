#pragma once
// Data-parallel ranks over torch c10d: Gloo on CPU, NCCL on CUDA (when
// LibTorch was built with it). Ranks meet through a TCPStore served by rank 0
// at MASTER_ADDR:MASTER_PORT, the variables torchrun sets together with RANK
// and WORLD_SIZE. Every rank holds the whole model; each trains on its share
// of every global batch, and gradients are summed across ranks before the
// optimizer step, so that all ranks apply the same update.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/core/rank_env.h"

namespace upm {

// The launch's ranks (core/rank_env.h); nullopt when WORLD_SIZE is unset or 1.
// Malformed or inconsistent values are InputErrors naming the variable.
std::optional<RankEnv> distributed_env_from_environment();

class Distributed;

// Joins the launch's ranks on `device` when WORLD_SIZE > 1 (torchrun's
// variables); null for a lone process, so callers pass the pointer on as
// "no group". `device` is the job's model device (runtime_device: on CUDA,
// the rank's own GPU, which the NCCL group is bound to).
std::unique_ptr<Distributed> join_ranks_from_environment(const c10::Device& device);

class Distributed {
 public:
  // Joins the group (blocks until every rank has joined). `device` picks the
  // backend: CUDA -> NCCL (if built with it), otherwise Gloo. A CUDA device
  // becomes this process's current device, as torch.cuda.set_device does.
  Distributed(const RankEnv& env, const c10::Device& device);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const std::string& backend() const { return backend_; }
  // The device the group's tensors live on (CUDA for NCCL).
  const c10::Device& device() const { return device_; }

  // In-place sum over ranks of each tensor (all on the group's device).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);
  // Every rank's `tensor`, in rank order (same shape and dtype on every rank),
  // on the group's device; no gradient flows through.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor);
  // Overwrites each tensor with rank 0's values.
  void broadcast_from_rank0(std::vector<torch::Tensor>& tensors);
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  RankEnv env_;
  c10::Device device_;
  std::string backend_;
};

// Sums a few numbers (counts, metric sums) over the ranks in one collective,
// staged through a float64 tensor on the group's device. Returns `values`
// unchanged when `dist` is null.
std::vector<double> sum_over_ranks(Distributed* dist, std::vector<double> values);

// Sums the grads of `params` over the ranks (undefined grads become zeros so
// that every rank sends the same tensors). No-op when `dist` is null.
void all_reduce_grads(Distributed* dist, const std::vector<torch::Tensor>& params);

// Every rank's rows of `local` ([B, ...], B the same on every rank),
// concatenated in rank order: [world * B, ...] on local's device. The other
// ranks' rows are constants and this rank's slice is `local` itself, so a
// loss computed alike on every rank from the gathered rows sends gradients
// only into this rank's rows; summed over ranks (all_reduce_grads) they are
// the gradient of that loss with respect to all rows, as one process holding
// the whole batch would compute it. `local` itself when `dist` is null.
torch::Tensor all_gather_rows(Distributed* dist, const torch::Tensor& local);

// Overwrites `params` with rank 0's values (start of a data-parallel run).
// No-op when `dist` is null.
void broadcast_params(Distributed* dist, const std::vector<std::pair<std::string, torch::Tensor>>& params);

}  // namespace upm
