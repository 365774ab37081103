#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train_test_util.h"
#include "upm/core/config.h"
#include "upm/core/jsonl.h"
#include "upm/model/safetensors_folder.h"
#include "upm/train/sft_trainer.h"
#include "upm/core/source_dir.h"
#include "test_paths.h"

namespace upm {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::vector<nlohmann::json> metrics(const std::string& run_dir) { return read_jsonl_file(run_dir + "/metrics.jsonl"); }

// Every tensor of two model folders, compared bit for bit.
void expect_same_weights(const std::string& a, const std::string& b) {
  SafetensorsFolder fa(a), fb(b);
  ASSERT_EQ(fa.names(), fb.names());
  for (const auto& name : fa.names()) EXPECT_TRUE(torch::equal(fa.tensor(name), fb.tensor(name))) << name;
}

TEST(SftTrainerTest, ResumedRunRepeatsTheUninterruptedOneBitForBit) {
  TempDir dir;
  SftConfig straight = test::tiny_sft_config(dir.file("straight"));
  straight.save_every = 1;
  SftResult full = run_sft(straight);
  EXPECT_EQ(full.steps, 4);

  SftConfig staged = test::tiny_sft_config(dir.file("staged"));
  staged.save_every = 1;
  SftRunOptions first;
  first.stop_after_steps = 2;
  SftResult part = run_sft(staged, first);
  EXPECT_EQ(part.steps, 2);
  EXPECT_FALSE(fs::exists(dir.file("staged/final")));
  // A line of a step past the checkpoint (as a kill after logging would leave) is dropped on resume.
  std::ofstream(dir.file("staged/metrics.jsonl"), std::ios::app) << R"({"step": 3, "loss": 0})"
                                                                 << "\n";
  SftRunOptions second;
  second.resume = true;
  SftResult rest = run_sft(staged, second);
  EXPECT_EQ(rest.steps, 4);

  auto a = metrics(dir.file("straight")), b = metrics(dir.file("staged"));
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b[i]["step"], int64_t(i + 1));
    EXPECT_EQ(a[i]["loss"].get<double>(), b[i]["loss"].get<double>()) << "step " << i + 1;
    EXPECT_EQ(a[i]["grad_norm"].get<double>(), b[i]["grad_norm"].get<double>()) << "step " << i + 1;
    EXPECT_EQ(a[i]["lr"].get<double>(), b[i]["lr"].get<double>());
  }
  EXPECT_EQ(a[3]["eval_loss"].get<double>(), b[3]["eval_loss"].get<double>());
  expect_same_weights(dir.file("straight/final"), dir.file("staged/final"));
  // A fresh run into a folder with checkpoints is refused.
  EXPECT_THROW(run_sft(staged), InputError);
}

TEST(SftTrainerTest, RunDirHoldsConfigMetricsCheckpointsAndALoadableModel) {
  TempDir dir;
  SftConfig c = test::tiny_sft_config(dir.file("run"));
  c.max_steps = 3;
  c.save_every = 1;
  c.keep_checkpoints = 2;
  c.eval_every = 2;
  SftResult r = run_sft(c);
  const std::string run = dir.file("run");
  auto resolved = read_json_file(run + "/config.json");
  EXPECT_EQ(resolved["max_steps"], 3);
  EXPECT_EQ(resolved["optimizer"]["lr"], 3e-3);
  EXPECT_TRUE(resolved.contains("lora"));
  auto m = metrics(run);
  ASSERT_EQ(m.size(), 3u);
  for (const char* key : {"step", "loss", "lr", "grad_norm", "tokens_per_s", "target_tokens"})
    EXPECT_TRUE(m[0].contains(key)) << key;
  EXPECT_TRUE(m[1].contains("eval_loss"));
  EXPECT_TRUE(m[2].contains("eval_loss"));          // last step
  EXPECT_DOUBLE_EQ(m[0]["lr"].get<double>(), 0.0);  // warmup starts at 0, as HF's schedule
  // keep_checkpoints=2: steps 2 and 3 remain, each complete.
  std::vector<std::string> kept;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) kept.push_back(e.path().filename().string());
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, (std::vector<std::string>{"step-00000002", "step-00000003"}));
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors",
                        "rng.safetensors", "trainer_state.json"}) {
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000003/" + f)) << f;
  }
  EXPECT_EQ(r.output_dir, run + "/final");
  expect_same_weights(run + "/final", run + "/checkpoints/step-00000003");
  EXPECT_TRUE(std::isfinite(r.eval_loss));
}

TEST(SftTrainerTest, TrainingFromScratchLowersEvalLoss) {
  TempDir dir;
  SftConfig c = test::tiny_sft_config(dir.file("run"));
  c.max_steps = 30;
  c.micro_batch_size = 4;
  c.grad_accum = 1;
  c.eval_every = 1000;  // only at the end
  c.optimizer.lr = 1e-2;
  SftConfig untrained = c;
  untrained.run_dir = dir.file("zero");
  untrained.max_steps = 1;
  untrained.optimizer.lr = 1e-12;
  const double before = run_sft(untrained).eval_loss;
  const double after = run_sft(c).eval_loss;
  std::printf("eval loss: %.3f at init, %.3f after 30 steps\n", before, after);
  EXPECT_GT(before, 6.0);  // ~ln(896) for a random model
  EXPECT_LT(after, before - 2.0);
}

TEST(SftTrainerTest, LoraRunChangesOnlyAdaptersAndSavesPeftLayout) {
  TempDir dir;
  SftConfig c = test::tiny_sft_config(dir.file("run"));
  c.max_steps = 2;
  c.lora.enabled = true;
  c.lora.rank = 4;
  c.lora.dropout = 0.1;
  run_sft(c);
  const std::string final_dir = dir.file("run/final");
  EXPECT_TRUE(fs::exists(final_dir + "/adapter_config.json"));
  EXPECT_FALSE(fs::exists(final_dir + "/model.safetensors"));
  auto adapter_config = read_json_file(final_dir + "/adapter_config.json");
  EXPECT_EQ(adapter_config["peft_type"], "LORA");
  EXPECT_EQ(adapter_config["r"], 4);
  SafetensorsFile adapter(final_dir + "/adapter_model.safetensors");
  EXPECT_EQ(adapter.header().tensors.size(), 2u * 4u * 2u);  // 2 layers x 4 modules x (A, B)
  auto b = adapter.tensor("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
  EXPECT_EQ(b.sizes(), (c10::IntArrayRef{32, 4}));
  EXPECT_GT(b.abs().max().item<double>(), 0.0);  // B starts at zero: training moved it
  // LoRA resume continues too.
  SftConfig longer = c;
  longer.max_steps = 3;
  SftRunOptions resume;
  resume.resume = true;
  EXPECT_EQ(run_sft(longer, resume).steps, 3);
}

TEST(SftTrainerTest, ConfigFileParsesAndToolRejectsBadDataWithExitTwo) {
  const std::string config = upm::source_dir() + "/configs/sft_tiny.json";
  auto parsed = load_config<SftConfig>(config, {"max_steps=2"});
  EXPECT_EQ(parsed.max_steps, 2);
  EXPECT_EQ(parsed.init, "random");
  EXPECT_THROW(load_config<SftConfig>(config, {"optimizer.lrr=1"}), InputError);
  EXPECT_THROW(load_config<SftConfig>(config, {"data.too_long=cut"}), InputError);

  TempDir dir;
  const std::string bad = dir.file("bad.jsonl");
  std::ofstream(bad) << R"({"prompt": "a", "completion": "b"})"
                        "\n"
                        R"({"prompt": "a", "completion": 7})"
                        "\n";
  const std::string command = "cd " + upm::source_dir() + " && " + upm::test::bin_dir() + "/upm-train sft --config " +
                              config + " --set run_dir=" + dir.file("run") + " --set data.train_file=" + bad + " 2> " +
                              dir.file("err.txt");
  const int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(test::read_text(dir.file("err.txt")).find(bad + ":2: completion"), std::string::npos)
      << test::read_text(dir.file("err.txt"));
}

}  // namespace
}  // namespace upm
