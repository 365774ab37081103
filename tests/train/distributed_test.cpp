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

#include "rl_test_judges.h"
#include "rl_test_util.h"
#include "train_test_util.h"
#include "upm/core/jsonl.h"
#include "upm/model/safetensors_folder.h"
#include "upm/pipeline/eval/evaluator.h"
#include "upm/dist/process_group.h"
#include "upm/train/grpo_trainer.h"
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

// Runs `train(dist)` on two Gloo ranks (threads) over loopback; returns
// {rank 0's result, rank 1's}.
template <class Train>
auto on_two_ranks(Train train) {
  const int port = free_port();
  auto rank_run = [&](int rank) {
    RankEnv env;
    env.rank = rank;
    env.world_size = 2;
    env.master_addr = "127.0.0.1";
    env.master_port = port;
    Distributed dist(env, c10::Device("cpu"));
    EXPECT_EQ(dist.backend(), "gloo");
    return train(&dist);
  };
  auto rank1 = std::async(std::launch::async, rank_run, 1);
  auto rank0 = rank_run(0);
  return std::make_pair(rank0, rank1.get());
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
  auto [rank0, r1] = on_two_ranks([&](Distributed* dist) {
    SftRunOptions options;
    options.dist = dist;
    return run_sft(two, options);
  });

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

// GRPO over two Gloo ranks: each rank rolls out and scores half of the
// step's users (sample g of the user at batch position u draws from stream
// u * G + g whatever the rank), the token counts and gradients are summed
// over ranks. Two steps of 2 passes with the KL term on must leave the same
// weights and metrics as one rank rolling out all the users; judge_requests
// (a sum over ranks) catches ranks that both roll out everyone.
TEST(DistributedTest, TwoGlooRanksRunGrpoLikeOneRankOnAllUsers) {
  TempDir dir;
  const std::string model = test::random_model_dir(dir.path(), 3);
  auto config = [&](const std::string& name) {
    GrpoConfig c = test::topic_rl_config(dir.file(name), model, model, 8, 0);
    c.reward.require_think = false;
    c.generation.max_new_tokens = 8;
    c.group_size = 3;
    c.users_per_step = 4;
    c.ppo_epochs = 2;
    c.minibatches = 1;  // minibatches are cut per rank: only whole passes are split-invariant
    c.micro_batch_size = 4;
    c.loss.kl_beta = 0.1;
    c.optimizer.lr = 1e-2;
    c.optimizer.eps = 1e-4;  // see the weights check below
    c.max_steps = 2;
    return c;
  };
  std::filesystem::create_directories(dir.file("one"));
  std::filesystem::create_directories(dir.file("two"));
  const GrpoConfig one = config("one"), two = config("two");
  GrpoResult single = run_grpo(one);

  auto [rank0, r1] = on_two_ranks([&](Distributed* dist) {
    GrpoRunOptions options;
    options.dist = dist;
    return run_grpo(two, options);
  });
  EXPECT_EQ(rank0.last_reward_mean, r1.last_reward_mean);
  EXPECT_TRUE(r1.output_dir.empty());

  auto a = read_jsonl_file(one.run_dir + "/metrics.jsonl"), b = read_jsonl_file(two.run_dir + "/metrics.jsonl");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i + 1));
    EXPECT_EQ(a[i]["judge_requests"], b[i]["judge_requests"]);
    EXPECT_EQ(a[i]["completion_tokens"], b[i]["completion_tokens"]);
    for (const char* key : {"reward_mean", "reward_std", "loss", "kl", "entropy", "grad_norm", "ratio_mean",
                            "group_reward_std", "frac_reward_zero_std", "distinct_samples"}) {
      EXPECT_NEAR(a[i][key].get<double>(), b[i][key].get<double>(), 1e-4) << key;
    }
  }
  EXPECT_GT(a[1]["kl"].get<double>(), 0.0);  // the second step ran away from the reference
  SafetensorsFolder fa(single.output_dir), fb(rank0.output_dir);
  double maxdiff = 0.0, moved = 0.0;
  SafetensorsFolder initial(model);
  for (const auto& name : fa.names()) {
    maxdiff = std::max(maxdiff, (fa.tensor(name) - fb.tensor(name)).abs().max().item<double>());
    moved = std::max(moved, (fa.tensor(name) - initial.tensor(name)).abs().max().item<double>());
  }
  std::printf("GRPO two ranks vs one: weights maxdiff %.3g (largest change from the start %.3g)\n", maxdiff, moved);
  EXPECT_GT(moved, 1e-3);
  // With Adam's default eps (1e-8) summation-order noise in near-zero
  // gradients became updates of up to lr per entry (3.4e-5 on one CPU, 1.35e-4
  // on another); eps 1e-4 leaves such entries nearly still: measured 7.1e-6
  // against a largest change of 0.039. A rank updating on its own half of the
  // batch differs by O(lr).
  EXPECT_LT(maxdiff, 5e-5);
}

// Dynamic sampling over two ranks: each rank rolls out its share of every
// round, the ranks sum their groups' spread flags, so both agree on what is
// kept, when to refill and when to stop; the update is the one rank's.
// A judge that flattens the even-numbered users forces refill rounds.
TEST(DistributedTest, TwoGlooRanksRunDynamicSamplingLikeOneRank) {
  TempDir dir;
  const std::string model = test::random_model_dir(dir.path(), 3);
  auto config = [&](const std::string& name) {
    GrpoConfig c = test::topic_rl_config(dir.file(name), model, model, 8, 0);
    c.reward.require_think = false;
    c.reward.format_penalty = 0.0;
    c.generation.max_new_tokens = 8;
    c.group_size = 3;
    c.users_per_step = 4;
    c.ppo_epochs = 1;
    c.minibatches = 1;
    c.micro_batch_size = 4;
    c.dynamic_sampling.enabled = true;
    c.dynamic_sampling.max_rounds = 6;
    c.optimizer.lr = 1e-2;
    c.optimizer.eps = 1e-4;  // as above
    c.max_steps = 2;
    return c;
  };
  std::filesystem::create_directories(dir.file("one"));
  std::filesystem::create_directories(dir.file("two"));
  const GrpoConfig one = config("one"), two = config("two");
  test::EvenUsersFlatJudge judge;
  GrpoRunOptions single_options;
  single_options.judge = &judge;
  GrpoResult single = run_grpo(one, single_options);
  auto [rank0, r1] = on_two_ranks([&](Distributed* dist) {
    GrpoRunOptions options;
    options.dist = dist;
    options.judge = &judge;
    return run_grpo(two, options);
  });
  EXPECT_EQ(rank0.last_reward_mean, r1.last_reward_mean);

  auto a = read_jsonl_file(one.run_dir + "/metrics.jsonl"), b = read_jsonl_file(two.run_dir + "/metrics.jsonl");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(a.size(), b.size());
  bool refilled = false;
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i + 1));
    for (const char* key : {"rollout_rounds", "groups_kept", "groups_dropped", "judge_requests", "completion_tokens"}) {
      EXPECT_EQ(a[i][key], b[i][key]) << key;
    }
    for (const char* key : {"reward_mean", "loss", "grad_norm", "frac_reward_zero_std"}) {
      EXPECT_NEAR(a[i][key].get<double>(), b[i][key].get<double>(), 1e-4) << key;
    }
    EXPECT_EQ(a[i]["groups_kept"].get<int64_t>(), 4);
    refilled = refilled || a[i]["rollout_rounds"].get<int64_t>() > 1;
  }
  EXPECT_TRUE(refilled);
  SafetensorsFolder fa(single.output_dir), fb(rank0.output_dir);
  double maxdiff = 0.0;
  for (const auto& name : fa.names()) {
    maxdiff = std::max(maxdiff, (fa.tensor(name) - fb.tensor(name)).abs().max().item<double>());
  }
  EXPECT_LT(maxdiff, 5e-5);
}

// upm-eval over two ranks: each scores every other task; the report summed
// over ranks must be the one-process report (same n, accuracies, missing
// inputs; P(correct) up to padding noise, since batches hold other tasks), on
// both ranks, and rank 0 must leave predictions.jsonl in one-process order.
// Summing without sharding doubles every accuracy; sharding without summing
// halves n.
TEST(DistributedTest, TwoGlooRanksEvaluateLikeOneProcess) {
  TempDir dir;
  const std::string model = test::random_model_dir(dir.path(), 5);
  {
    std::ofstream bench(dir.file("bench.jsonl")), profiles(dir.file("profiles.jsonl"));
    for (int i = 0; i < 11; ++i) {  // odd: the ranks hold 6 and 5 tasks
      nlohmann::json task = {{"user_id", "u" + std::to_string(i % 4)},
                             {"task_id", "t" + std::to_string(i)},
                             {"context", "Which one?"},
                             {"options", {"tea " + std::to_string(i), "coffee", "juice"}},
                             {"label", i % 3},
                             {"source", i % 2 ? "a" : "b"}};
      bench << task.dump() << "\n";
    }
    for (int u = 0; u < 3; ++u) {  // u3 has no profile: a missing input
      profiles
          << nlohmann::json{{"user_id", "u" + std::to_string(u)}, {"profile", "Drinks tea " + std::to_string(u)}}.dump()
          << "\n";
    }
  }
  auto config = [&](const std::string& run) {
    nlohmann::json j = {
        {"benchmark", dir.file("bench.jsonl")},
        {"run_dir", dir.file(run)},
        {"predictors", {{{"name", "judge"}, {"model", model}, {"seed", 1}}}},
        {"conditions", {{{"kind", "none"}}, {{"name", "mine"}, {"profiles", dir.file("profiles.jsonl")}}}},
        {"batch_tasks", 4},
        {"bootstrap_resamples", 200},
        {"group_by", {"source"}}};
    return config_from_json<EvalConfig>(j, "test");
  };
  const EvalConfig one = config("one"), two = config("two");
  const nlohmann::json single = run_evaluation(one);
  auto [rank0, rank1] = on_two_ranks([&](Distributed* dist) {
    EvalRunOptions options;
    options.dist = dist;
    return run_evaluation(two, options);
  });
  EXPECT_EQ(rank0, rank1);
  ASSERT_EQ(single["results"].size(), 2u);
  ASSERT_EQ(rank0["results"].size(), 2u);
  for (size_t c = 0; c < 2; ++c) {
    const auto &a = single["results"][c], &b = rank0["results"][c];
    SCOPED_TRACE(a["condition"].get<std::string>());
    EXPECT_EQ(b["n"], 11);
    EXPECT_EQ(a["missing_inputs"], b["missing_inputs"]);
    for (const char* field : {"mean", "low", "high"}) {
      EXPECT_NEAR(a["accuracy"][field].get<double>(), b["accuracy"][field].get<double>(), 1e-12) << field;
      EXPECT_NEAR(a["p_correct"][field].get<double>(), b["p_correct"][field].get<double>(), 1e-5) << field;
    }
  }
  EXPECT_EQ(single["results"][1]["missing_inputs"], 2);  // t3 and t7 belong to u3
  EXPECT_NEAR(single["differences"][0]["accuracy"]["mean"].get<double>(),
              rank0["differences"][0]["accuracy"]["mean"].get<double>(), 1e-12);

  const auto a = read_jsonl_file(dir.file("one/predictions.jsonl")),
             b = read_jsonl_file(dir.file("two/predictions.jsonl"));
  ASSERT_EQ(a.size(), 22u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["condition"], b[i]["condition"]) << i;
    EXPECT_EQ(a[i]["task_id"], b[i]["task_id"]) << i;
    EXPECT_EQ(a[i]["choice"], b[i]["choice"]) << i;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.file("two/report.json")));
  for (const char* shard : {"two/predictions.rank0-of-2.jsonl", "two/predictions.rank1-of-2.jsonl"}) {
    EXPECT_FALSE(std::filesystem::exists(dir.file(shard))) << shard;
  }
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

TEST(DistributedTest, ALoneProcessJoinsNoGroup) {
  unsetenv("WORLD_SIZE");
  EXPECT_EQ(join_ranks_from_environment(c10::Device(c10::kCPU)), nullptr);
  setenv("WORLD_SIZE", "1", 1);
  EXPECT_EQ(join_ranks_from_environment(c10::Device(c10::kCPU)), nullptr);
  unsetenv("WORLD_SIZE");
}

}  // namespace
}  // namespace upm
