// ProcessGroupGloo.hpp only declares the class when this is defined (torch's
// own build defines it); official LibTorch ships the Gloo backend compiled in.
// USE_C10D_NCCL comes from our CMake when LibTorch has CUDA.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif

#include "upm/dist/process_group.h"

#include <cstdlib>

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace upm {

namespace {

// The network interface Gloo binds: GLOO_SOCKET_IFNAME as in PyTorch; loopback
// when the ranks meet on loopback; otherwise the host's default address.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (master_addr.rfind("127.", 0) == 0 || master_addr == "localhost") {
    return c10d::ProcessGroupGloo::createDeviceForHostname(master_addr);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

std::optional<RankEnv> distributed_env_from_environment() {
  RankEnv env = rank_env_from_environment();
  if (!env.distributed()) return std::nullopt;
  return env;
}

std::unique_ptr<Distributed> join_ranks_from_environment(const c10::Device& device) {
  auto env = distributed_env_from_environment();
  if (!env) return nullptr;
  return std::make_unique<Distributed>(*env, device);
}

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  // ProcessGroupGloo / ProcessGroupNCCL derive from Backend, not ProcessGroup.
  c10::intrusive_ptr<c10d::Backend> group;
};

Distributed::Distributed(const RankEnv& env, const c10::Device& device)
    : impl_(std::make_unique<Impl>()), env_(env), device_(device) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = env.rank == 0;
  options.numWorkers = static_cast<size_t>(env.world_size);
  options.waitWorkers = true;
  impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  if (device.is_cuda() && device.has_index()) {
    // Kernels and allocations without an explicit device (NCCL's own, and
    // library code that says "cuda") land on the rank's GPU, not GPU 0.
    c10::impl::getDeviceGuardImpl(c10::kCUDA)->setDevice(device);
  }
#ifdef USE_C10D_NCCL
  if (device.is_cuda()) {
    auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size);
    // Bound: barriers and the communicator use this GPU rather than guessing
    // rank % device count.
    if (device.has_index()) nccl->setBoundDeviceId(device);
    impl_->group = nccl;
    backend_ = "nccl";
  }
#endif
  if (!impl_->group) {
    if (device.is_cuda()) spdlog::warn("LibTorch has no NCCL: ranks talk over Gloo (CUDA tensors are staged)");
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->devices.push_back(gloo_device(env.master_addr));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, gloo);
    backend_ = "gloo";
  }
  spdlog::info("rank {} of {} joined over {} at {}:{}", env.rank, env.world_size, backend_, env.master_addr,
               env.master_port);
}

Distributed::~Distributed() = default;

void Distributed::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return;
  // One flat buffer: one collective instead of one per parameter.
  std::vector<torch::Tensor> flat{torch::cat([&] {
    std::vector<torch::Tensor> views;
    for (auto& t : tensors) views.push_back(t.reshape({-1}));
    return views;
  }())};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  impl_->group->allreduce(flat, options)->wait();
  int64_t offset = 0;
  for (auto& t : tensors) {
    t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

std::vector<torch::Tensor> Distributed::all_gather(const torch::Tensor& tensor) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> input{tensor.detach().to(device_).contiguous()};
  std::vector<std::vector<torch::Tensor>> output(1);
  for (int r = 0; r < world_size(); ++r) output[0].push_back(torch::empty_like(input[0]));
  impl_->group->allgather(output, input)->wait();
  return output[0];
}

void Distributed::broadcast_from_rank0(std::vector<torch::Tensor>& tensors) {
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one{t};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    impl_->group->broadcast(one, options)->wait();
  }
}

void Distributed::barrier() { impl_->group->barrier()->wait(); }

std::vector<double> sum_over_ranks(Distributed* dist, std::vector<double> values) {
  if (!dist || values.empty()) return values;
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kDouble).to(dist->device())};
  dist->all_reduce_sum(t);
  const torch::Tensor sums = t[0].to(torch::kCPU).contiguous();
  std::copy(sums.data_ptr<double>(), sums.data_ptr<double>() + sums.numel(), values.begin());
  return values;
}

void all_reduce_grads(Distributed* dist, const std::vector<torch::Tensor>& params) {
  if (!dist) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (auto p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  dist->all_reduce_sum(grads);
}

torch::Tensor all_gather_rows(Distributed* dist, const torch::Tensor& local) {
  if (!dist) return local;
  std::vector<torch::Tensor> rows = dist->all_gather(local);
  for (auto& r : rows) r = r.to(local.device());
  rows[size_t(dist->rank())] = local;
  return torch::cat(rows, 0);
}

void broadcast_params(Distributed* dist, const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  if (!dist) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& [name, p] : params) tensors.push_back(p);
  dist->broadcast_from_rank0(tensors);
}

}  // namespace upm
