// Two data-parallel ranks over Gloo on loopback (threads of this process,
// each with its own TCPStore client and process group) against one rank
// training on the same global batches.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "embed_train_test_util.h"
#include "rl_test_judges.h"
#include "rl_test_util.h"
#include "train_test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/core/jsonl.h"
#include "upm/model/safetensors.h"
#include "upm/model/safetensors_folder.h"
#include "upm/pipeline/eval/evaluator.h"
#include "upm/dist/process_group.h"
#include "upm/train/embed_trainer.h"
#include "upm/train/grpo_trainer.h"
#include "upm/train/info_nce.h"
#include "upm/train/optimizer.h"
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

// The all-gather of negatives at the loss alone: each rank holds half of the
// rows, gathers everyone's, and differentiates the same loss; the gradients
// reaching each rank's own rows are the one-process gradients of the union
// (float64, 1e-12). Without the gather each rank's loss covers its own rows.
TEST(DistributedTest, GatheredInfoNceOnTwoRanksEqualsOneRankOnTheUnion) {
  torch::manual_seed(11);
  const torch::Tensor anchors = torch::randn({8, 5}, torch::kDouble);
  const torch::Tensor positives = anchors + 0.5 * torch::randn({8, 5}, torch::kDouble);
  const InfoNceConfig config;  // the three published kinds, margin 0.1
  auto qa = anchors.clone().requires_grad_(true), qp = positives.clone().requires_grad_(true);
  const InfoNceTerms one = info_nce_loss(qa, qp, config);
  one.loss.backward();

  struct RankOut {
    double loss = 0.0, local_loss = 0.0;
    int64_t masked = 0;
    torch::Tensor grad_anchors, grad_positives;
  };
  auto [r0, r1] = on_two_ranks([&](Distributed* dist) {
    const int64_t begin = 4 * dist->rank();
    auto a = anchors.narrow(0, begin, 4).clone().requires_grad_(true);
    auto p = positives.narrow(0, begin, 4).clone().requires_grad_(true);
    const InfoNceTerms gathered = info_nce_loss(all_gather_rows(dist, a), all_gather_rows(dist, p), config);
    gathered.loss.backward();
    RankOut out;
    out.loss = gathered.loss.item<double>();
    out.masked = gathered.masked;
    out.grad_anchors = a.grad();
    out.grad_positives = p.grad();
    out.local_loss = info_nce_loss(a, p, config).loss.item<double>();
    return out;
  });
  EXPECT_NEAR(r0.loss, one.loss.item<double>(), 1e-12);
  EXPECT_NEAR(r1.loss, one.loss.item<double>(), 1e-12);
  EXPECT_EQ(r0.masked, one.masked);
  const double da = (torch::cat({r0.grad_anchors, r1.grad_anchors}) - qa.grad()).abs().max().item<double>();
  const double dp = (torch::cat({r0.grad_positives, r1.grad_positives}) - qp.grad()).abs().max().item<double>();
  EXPECT_LT(da, 1e-12);
  EXPECT_LT(dp, 1e-12);
  EXPECT_GT(qa.grad().abs().max().item<double>(), 1e-3);
  // The local losses are the halves' own InfoNCE: fewer negatives, another value.
  EXPECT_GT(std::abs((r0.local_loss + r1.local_loss) / 2.0 - one.loss.item<double>()), 1e-3);
  EXPECT_TRUE(torch::equal(all_gather_rows(nullptr, anchors), anchors));
}

// Embedding training's first step over two Gloo ranks (threads, as above)
// against one rank on the union batch: the loss, both terms and every
// trainable tensor's gradient after the ranks' all-reduce agree within 1e-5
// (fp32). Full fine-tuning of the tiny model, head included, the published
// objective (three kinds of gathered negatives, margin mask, answer LM term).
TEST(DistributedTest, TwoGlooRanksTakeTheEmbedStepOfOneRankOnTheUnionBatch) {
  TempDir dir;
  const std::string model_dir = dir.file("model");
  test::write_tiny_model_folder(model_dir, "qwen3", /*marker=*/true);
  const test::SynthEmbedData data = test::write_synth_embed_data(dir.path(), 12, 5);
  EmbedTrainConfig config = test::tiny_embed_config(dir.file("run"), model_dir, data);
  config.lm_weight = 0.5;
  config.optimizer.max_grad_norm = 0.0;  // the raw summed gradients
  const std::vector<int64_t> batch = {0, 9, 14, 21, 26, 33, 40, 47};

  struct StepOut {
    StepReport report;
    std::map<std::string, torch::Tensor> grads;
  };
  auto grads_of = [](EmbedTrainer& trainer) {
    std::map<std::string, torch::Tensor> out;
    for (const auto& [name, p] : trainer.optimizer().params()) out[name] = p.grad().clone();
    return out;
  };
  EmbedTrainer single(config, std::nullopt);
  StepOut one{single.step(batch, 0.0), grads_of(single)};

  // The trainers draw the head's initial weights from the global generator:
  // built one at a time, both ranks start where the single run did.
  std::mutex building;
  auto run_ranks = [&](const EmbedTrainConfig& c) {
    return on_two_ranks([&](Distributed* dist) {
      std::unique_ptr<EmbedTrainer> trainer;
      {
        std::lock_guard<std::mutex> lock(building);
        trainer = std::make_unique<EmbedTrainer>(c, std::nullopt, dist);
      }
      StepReport report = trainer->step(batch, 0.0);
      return StepOut{report, grads_of(*trainer)};
    });
  };
  auto [r0, r1] = run_ranks(config);
  for (const StepOut* rank : {&r0, &r1}) {
    for (const char* key : {"info_nce", "lm_loss", "grad_norm"}) {
      EXPECT_NEAR(rank->report.fields.at(key).get<double>(), one.report.fields.at(key).get<double>(), 1e-5) << key;
    }
    EXPECT_EQ(rank->report.fields.at("masked"), one.report.fields.at("masked"));
    EXPECT_NEAR(rank->report.loss, one.report.loss, 1e-5);
  }
  ASSERT_EQ(r0.grads.size(), one.grads.size());
  double maxdiff = 0.0, largest = 0.0;
  for (const auto& [name, g] : one.grads) {
    maxdiff = std::max(maxdiff, (r0.grads.at(name) - g).abs().max().item<double>());
    maxdiff = std::max(maxdiff, (r1.grads.at(name) - g).abs().max().item<double>());
    largest = std::max(largest, g.abs().max().item<double>());
  }
  std::printf("embed step, two ranks vs one: loss %.7f vs %.7f, gradient maxdiff %.3g (largest entry %.3g)\n",
              r0.report.loss, one.report.loss, maxdiff, largest);
  EXPECT_LT(maxdiff, 1e-5);
  EXPECT_GT(largest, 1e-3);

  // Without the gather each rank's InfoNCE sees its own four rows: the
  // reported term is the mean of the halves' (rank_share: even and odd
  // positions), which one process computes on each half.
  EmbedTrainConfig local = config;
  local.gather_negatives = false;
  auto [l0, l1] = run_ranks(local);
  const std::vector<int64_t> even = {0, 14, 26, 40}, odd = {9, 21, 33, 47};
  const double halves = (EmbedTrainer(local, std::nullopt).step(even, 0.0).fields.at("info_nce").get<double>() +
                         EmbedTrainer(local, std::nullopt).step(odd, 0.0).fields.at("info_nce").get<double>()) /
                        2.0;
  EXPECT_NEAR(l0.report.fields.at("info_nce").get<double>(), halves, 1e-5);
  EXPECT_NEAR(l1.report.fields.at("info_nce").get<double>(), halves, 1e-5);
  EXPECT_GT(std::abs(halves - one.report.fields.at("info_nce").get<double>()), 1e-3);
  EXPECT_NEAR(l0.report.fields.at("lm_loss").get<double>(), one.report.fields.at("lm_loss").get<double>(), 1e-5);
}

// Equal shares are what the all-gather and the per-rank averages assume.
TEST(DistributedTest, EmbedBatchThatTheRanksCannotShareEquallyIsAnInputError) {
  TempDir dir;
  const std::string model_dir = dir.file("model");
  test::write_tiny_model_folder(model_dir, "qwen3", /*marker=*/true);
  EmbedTrainConfig config =
      test::tiny_embed_config(dir.file("run"), model_dir, test::write_synth_embed_data(dir.path(), 4, 5));
  config.batch_size = 7;
  auto [r0, r1] = on_two_ranks([&](Distributed* dist) {
    try {
      EmbedTrainer trainer(config, std::nullopt, dist);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  EXPECT_NE(r0.find("batch_size 7 is not a multiple of the 2 ranks"), std::string::npos) << r0;
  EXPECT_EQ(r0, r1);
}

// The launch a user runs: two `upm-train embed` processes with torchrun's
// variables (Gloo over loopback) against one process on the same config.
// Two steps: every metric of each step, and the final model and head, agree
// (1e-5; the ranks' forward passes cover half the rows each, so only the
// summation order differs).
TEST(DistributedTest, TwoEmbedTrainingProcessesTrainLikeOneProcess) {
  TempDir dir;
  const std::string model_dir = dir.file("model");
  test::write_tiny_model_folder(model_dir, "qwen3", /*marker=*/true);
  const test::SynthEmbedData data = test::write_synth_embed_data(dir.path(), 12, 5);
  EmbedTrainConfig config = test::tiny_embed_config(dir.file("unused"), model_dir, data);
  config.max_steps = 2;
  config.lm_weight = 0.5;
  // As in the GRPO test above: Adam's default eps turns summation-order noise
  // in near-zero gradient entries into updates of up to lr. Measured with
  // eps 1e-8: final weights 4.5e-5 apart and step 2's grad_norm 2.5e-5 apart
  // (of 11.75); with 1e-4: 3.8e-7.
  config.optimizer.eps = 1e-4;
  write_file_atomic(dir.file("embed.json"), config_to_json(config).dump(2));
  const std::string args = "embed --config " + dir.file("embed.json") + " --set run_dir=";
  auto single = test::run_tool("upm-train", args + dir.file("one"));
  ASSERT_EQ(single.code, 0) << single.output;

  const int port = free_port();
  auto launch = [&](int rank) {
    const std::string command = "RANK=" + std::to_string(rank) +
                                " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " +
                                test::bin_dir() + "/upm-train " + args + dir.file("two") + " 2>&1";
    test::ToolResult r{-1, ""};
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return r;
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) r.output.append(buffer, n);
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  };
  auto rank1 = std::async(std::launch::async, launch, 1);
  const test::ToolResult rank0 = launch(0);
  const test::ToolResult r1 = rank1.get();
  ASSERT_EQ(rank0.code, 0) << rank0.output;
  ASSERT_EQ(r1.code, 0) << r1.output;
  EXPECT_NE(rank0.output.find("over 2 rank(s) (negatives gathered)"), std::string::npos) << rank0.output;

  auto a = read_jsonl_file(dir.file("one/metrics.jsonl")), b = read_jsonl_file(dir.file("two/metrics.jsonl"));
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i + 1));
    for (const char* key : {"loss", "info_nce", "lm_loss", "grad_norm"}) {
      EXPECT_NEAR(a[i][key].get<double>(), b[i][key].get<double>(), 1e-5) << key;
    }
    EXPECT_EQ(a[i]["masked"], b[i]["masked"]);
    EXPECT_EQ(b[i]["pairs"], 8);
  }
  double maxdiff = 0.0;
  for (const char* file : {"/final/model.safetensors", "/final/projection.safetensors"}) {
    SafetensorsFile fa(dir.file("one") + file), fb(dir.file("two") + file);
    for (const auto& [name, entry] : fa.header().tensors) {
      maxdiff = std::max(maxdiff, (fa.tensor(name) - fb.tensor(name)).abs().max().item<double>());
    }
  }
  std::printf("embed training, two processes vs one: weights maxdiff %.3g\n", maxdiff);
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

TEST(DistributedTest, ALoneProcessJoinsNoGroup) {
  unsetenv("WORLD_SIZE");
  EXPECT_EQ(join_ranks_from_environment(c10::Device(c10::kCPU)), nullptr);
  setenv("WORLD_SIZE", "1", 1);
  EXPECT_EQ(join_ranks_from_environment(c10::Device(c10::kCPU)), nullptr);
  unsetenv("WORLD_SIZE");
}

}  // namespace
}  // namespace upm
