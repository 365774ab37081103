// The shared trainer set-up (trainable.h) on the tiny random model: what
// trains (adapters or every weight), the model files of a checkpoint (PEFT
// adapter naming its base only when there is one, recipe files, tokenizer),
// weights restored from such a folder, and the fresh-run seed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "train_test_util.h"
#include "upm/core/error.h"
#include "upm/model/causal_lm.h"
#include "upm/train/trainable.h"

namespace upm::test {
namespace {

namespace fs = std::filesystem;

TrainableSettings tiny_settings(bool lora) {
  TrainableSettings s;
  s.model = tiny_model_config();
  s.init = "random";
  s.tokenizer = tiny_tokenizer();
  s.lora.enabled = lora;
  s.lora.rank = 2;
  s.seed = 3;
  return s;
}

std::map<std::string, torch::Tensor> snapshot(const NamedTensors& tensors) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : tensors) out[name] = t.detach().clone();
  return out;
}

TEST(Trainable, LoraTrainsOnlyAdaptersAndWritesAPeftFolderWithRecipeFilesAndTokenizer) {
  TempDir dir;
  Trainable t(tiny_settings(true), build_model(tiny_settings(true)));
  t.attach_weights(std::nullopt);
  ASSERT_NE(t.lora(), nullptr);
  for (const auto& [name, p] : t.weights()) EXPECT_NE(name.find("lora_"), std::string::npos) << name;
  t.make_optimizer(t.weights());
  EXPECT_EQ(t.optimizer().params().size(), t.weights().size());

  t.extra_files = [](const std::string& out) { std::ofstream(out + "/head.txt") << "head"; };
  t.write_model_files(dir.path());
  EXPECT_TRUE(fs::exists(dir.path() + "/adapter_model.safetensors"));
  EXPECT_FALSE(fs::exists(dir.path() + "/model.safetensors"));
  EXPECT_TRUE(fs::exists(dir.path() + "/head.txt"));
  EXPECT_TRUE(fs::exists(dir.path() + "/tokenizer.json"));
  nlohmann::json adapter = nlohmann::json::parse(std::ifstream(dir.path() + "/adapter_config.json"));
  EXPECT_EQ(adapter.value("base_model_name_or_path", "?"), "");  // a random init has no base folder to name
}

TEST(Trainable, ResumedWeightsEqualTheSavedOnesForLoraAndFullFineTuning) {
  for (bool lora : {true, false}) {
    TempDir dir;
    Trainable saved(tiny_settings(lora), build_model(tiny_settings(lora)));
    saved.attach_weights(std::nullopt);
    {
      torch::NoGradGuard no_grad;
      for (const auto& [name, p] : saved.weights()) p.add_(0.01);  // away from a fresh init
    }
    saved.write_model_files(dir.path());
    const auto expected = snapshot(saved.weights());

    TrainableSettings other = tiny_settings(lora);
    other.seed = 99;  // another init: only the folder can make them equal
    Trainable resumed(other, build_model(other));
    resumed.attach_weights(dir.path());
    const auto got = snapshot(resumed.weights());
    ASSERT_EQ(got.size(), expected.size()) << "lora " << lora;
    for (const auto& [name, t] : expected) EXPECT_TRUE(torch::equal(got.at(name), t)) << name << " lora " << lora;
  }
}

TEST(Trainable, FreshStateSeedsTheRngOnlyWhenAskedAndAResumeNeedsACheckpoint) {
  Trainable t(tiny_settings(false), build_model(tiny_settings(false)));
  t.attach_weights(std::nullopt);
  t.make_optimizer(t.weights());
  EXPECT_EQ(start_state(t.optimizer(), std::nullopt, 5, nullptr).step, 0);
  const torch::Tensor first = torch::rand({4});
  start_state(t.optimizer(), std::nullopt, 5, nullptr);
  EXPECT_TRUE(torch::equal(torch::rand({4}), first));
  start_state(t.optimizer(), std::nullopt, std::nullopt, nullptr);  // a recipe that seeded itself
  EXPECT_FALSE(torch::equal(torch::rand({4}), first));

  TempDir dir;
  EXPECT_THROW(start_run(dir.path() + "/run", nlohmann::json::object(), 0, /*resume=*/true, true), InputError);
  const RunStart run = start_run(dir.path() + "/run", {{"seed", 5}}, 0, false, /*writer=*/false);
  EXPECT_FALSE(run.resume_from);
  EXPECT_FALSE(fs::exists(dir.path() + "/run/config.json"));  // only the writer prepares the folder
}

}  // namespace
}  // namespace upm::test
