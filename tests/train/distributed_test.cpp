// Two data-parallel ranks over Gloo on loopback (threads of this process,
// each with its own TCPStore client and process group) against one rank
// training on the same global batches.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train_test_util.h"
#include "upm/core/jsonl.h"
#include "upm/model/safetensors_folder.h"
#include "upm/train/distributed.h"
#include "upm/train/sft_trainer.h"

namespace upm {
namespace {

using test::TempDir;

// A port the kernel just handed out on 127.0.0.1 (free at that moment).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(DistributedTest, TwoGlooRanksTrainLikeOneRankOnTheCombinedBatch) {
  TempDir dir;
  SftConfig one = test::tiny_sft_config(dir.file("one"));
  one.micro_batch_size = 2;  // global batch 2 x 2 accum = 4
  one.max_steps = 3;
  SftResult single = run_sft(one);

  SftConfig two = test::tiny_sft_config(dir.file("two"));
  two.micro_batch_size = 1;  // per rank 1 x 2 accum, x 2 ranks = 4
  two.max_steps = 3;
  const int port = free_port();
  auto rank_run = [&](int rank) {
    DistributedEnv env;
    env.rank = rank;
    env.world_size = 2;
    env.master_addr = "127.0.0.1";
    env.master_port = port;
    Distributed dist(env, c10::Device("cpu"));
    EXPECT_EQ(dist.backend(), "gloo");
    SftRunOptions options;
    options.dist = &dist;
    return run_sft(two, options);
  };
  auto rank1 = std::async(std::launch::async, rank_run, 1);
  SftResult rank0 = rank_run(0);
  SftResult r1 = rank1.get();

  // Both ranks saw the same reduced loss; only rank 0 wrote.
  EXPECT_EQ(rank0.last_loss, r1.last_loss);
  EXPECT_TRUE(r1.output_dir.empty());
  auto a = read_jsonl_file(dir.file("one/metrics.jsonl")), b = read_jsonl_file(dir.file("two/metrics.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-5) << "step " << i + 1;
    EXPECT_NEAR(a[i]["grad_norm"].get<double>(), b[i]["grad_norm"].get<double>(), 1e-4) << "step " << i + 1;
  }
  EXPECT_NEAR(single.eval_loss, rank0.eval_loss, 1e-5);
  SafetensorsFolder fa(dir.file("one/final")), fb(dir.file("two/final"));
  double maxdiff = 0.0;
  for (const auto& name : fa.names()) {
    maxdiff = std::max(maxdiff, (fa.tensor(name) - fb.tensor(name)).abs().max().item<double>());
  }
  std::printf("two ranks vs one: weights maxdiff %.3g\n", maxdiff);
  EXPECT_LT(maxdiff, 1e-5);
}

TEST(DistributedTest, EnvironmentIsReadLikeTorchrun) {
  unsetenv("WORLD_SIZE");
  EXPECT_FALSE(distributed_env_from_environment().has_value());
  setenv("WORLD_SIZE", "2", 1);
  unsetenv("RANK");
  UPM_EXPECT_THROW_WITH(distributed_env_from_environment(), InputError, "RANK");
  setenv("RANK", "2", 1);
  UPM_EXPECT_THROW_WITH(distributed_env_from_environment(), InputError, "RANK");
  setenv("RANK", "1", 1);
  setenv("MASTER_ADDR", "10.0.0.1", 1);
  setenv("MASTER_PORT", "1234x", 1);
  UPM_EXPECT_THROW_WITH(distributed_env_from_environment(), InputError, "MASTER_PORT");
  setenv("MASTER_PORT", "1234", 1);
  auto env = distributed_env_from_environment();
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->rank, 1);
  EXPECT_EQ(env->world_size, 2);
  EXPECT_EQ(env->master_addr, "10.0.0.1");
  EXPECT_EQ(env->master_port, 1234);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(v);
}

}  // namespace
}  // namespace upm
