// Q-Anchor embedding training: what a step trains, loss going down, exact
// resume, soft-prompt mode, the tool's errors.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "embed_train_test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/core/jsonl.h"
#include "upm/data/user_log.h"
#include "upm/embed/embedding_prompts.h"
#include "upm/model/causal_lm.h"
#include "upm/model/safetensors.h"
#include "upm/model/weights_loader.h"
#include "upm/text/tokenizer.h"
#include "upm/train/embed_trainer.h"
#include "upm/train/optimizer.h"

namespace upm {
namespace {

using test::TempDir;

std::map<std::string, torch::Tensor> snapshot(const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : tensors) out[name] = t.detach().clone();
  return out;
}

// Every tensor equal (exactly) / every tensor changed.
void expect_unchanged(const std::map<std::string, torch::Tensor>& before,
                      const std::vector<std::pair<std::string, torch::Tensor>>& after) {
  for (const auto& [name, t] : after) EXPECT_TRUE(torch::equal(before.at(name), t)) << name << " changed";
}
void expect_all_changed(const std::map<std::string, torch::Tensor>& before,
                        const std::vector<std::pair<std::string, torch::Tensor>>& after) {
  ASSERT_FALSE(after.empty());
  for (const auto& [name, t] : after) EXPECT_FALSE(torch::equal(before.at(name), t)) << name << " did not change";
}

std::vector<int64_t> first(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(i);
  return out;
}

struct Fixture {
  TempDir dir;
  std::string model_dir = dir.file("model");
  test::SynthEmbedData data;
  Fixture() {
    test::write_tiny_model_folder(model_dir, "qwen3", /*marker=*/true);
    data = test::write_synth_embed_data(dir.path(), 12, 5);
  }
  EmbedTrainConfig config(const std::string& run) const {
    return test::tiny_embed_config(dir.file(run), model_dir, data);
  }
};

TEST(EmbedTrainer, LoraStepTrainsOnlyAdaptersAndHeadAndLowersTheLossOnATinyBatch) {
  Fixture f;
  EmbedTrainConfig c = f.config("lora");
  c.lora.enabled = true;
  // The plain contrastive objective on one fixed batch (no margin mask, whose
  // dropped negatives change from step to step; no next-token term).
  c.info_nce.margin = -1;
  c.lm_weight = 0;
  EmbedTrainer trainer(c, std::nullopt);
  auto base = snapshot(trainer.model().hf_tensors());
  auto trainable = snapshot(trainer.optimizer().params());
  ASSERT_EQ(trainer.optimizer().params().size(), 4 * 2 * 2 + 4u);  // A, B of q/k/v/o in 2 layers + head
  const auto batch = first(8);
  std::vector<double> losses;
  for (int i = 0; i < 8; ++i) losses.push_back(trainer.step(batch, 3e-3).loss);
  expect_unchanged(base, trainer.model().hf_tensors());
  expect_all_changed(trainable, trainer.optimizer().params());
  EXPECT_LT(losses.back(), losses.front() * 0.8) << losses.front() << " -> " << losses.back();
}

TEST(EmbedTrainer, StepReportsBothLossTermsAndFullRunTrainsTheLm) {
  Fixture f;
  EmbedTrainConfig c = f.config("full");
  c.lm_weight = 0.5;
  EmbedTrainer trainer(c, std::nullopt);
  auto before = snapshot(trainer.model().hf_tensors());
  StepReport r = trainer.step(first(8), 1e-3);
  EXPECT_GT(r.fields.at("info_nce").get<double>(), 0.0);
  EXPECT_GT(r.fields.at("lm_loss").get<double>(), 0.0);
  // The loss is a float32 sum; the fields are its float32 terms: a few ulps at ~5.
  EXPECT_NEAR(r.loss, r.fields.at("info_nce").get<double>() + 0.5 * r.fields.at("lm_loss").get<double>(), 2e-6);
  expect_all_changed(before, trainer.model().hf_tensors());
}

// The published next-token loss: the positive's text (+ EOS) written after
// history + query (+ marker) + answer prefix, predicted in the anchor's own
// forward. Checked against a direct forward of each row alone with the
// model's full logits; the anchors (read before the answer) are those of a
// run without the LM term.
TEST(EmbedTrainer, AnswerLossIsTheNllOfTheAnswerAfterHistoryAndQuery) {
  Fixture f;
  EmbedTrainConfig c = f.config("answer");
  c.lm_weight = 1.0;
  ASSERT_EQ(c.lm_target, "answer");
  const std::vector<int64_t> batch = {0, 5};
  StepReport with_lm = EmbedTrainer(c, std::nullopt).step(batch, 0.0);

  std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(f.model_dir);
  auto model = load_pretrained(f.model_dir);
  EmbeddingPrompts prompts(tokenizer, c.text);
  auto logs = data::read_user_logs(f.data.logs);
  auto pairs = read_embed_pairs(f.data.pairs);
  double nll = 0.0;
  int64_t tokens = 0;
  for (int64_t i : batch) {
    const EmbedPair& pair = pairs[size_t(i)];
    const auto log = std::find_if(logs.begin(), logs.end(), [&](const auto& l) { return l.user_id == pair.user_id; });
    ASSERT_NE(log, logs.end());
    std::vector<int64_t> row = prompts.history(*log).ids;
    for (int64_t id : prompts.query(pair.query)) row.push_back(id);
    for (TokenId id : tokenizer->encode(c.answer_prefix, false)) row.push_back(id);
    const size_t start = row.size();
    std::vector<TokenId> answer = tokenizer->encode(pair.positive, false);
    if (int64_t(answer.size()) > c.data.max_positive_tokens) answer.resize(size_t(c.data.max_positive_tokens));
    row.insert(row.end(), answer.begin(), answer.end());
    if (tokenizer->special_tokens().eos) row.push_back(*tokenizer->special_tokens().eos);
    ForwardInput in;
    in.input_ids = torch::tensor(row, torch::kLong).unsqueeze(0);
    torch::NoGradGuard no_grad;
    torch::Tensor logp = torch::log_softmax(model->forward(in).logits[0].to(torch::kDouble), -1);
    for (size_t t = start; t < row.size(); ++t) nll -= logp[int64_t(t) - 1][row[t]].item<double>();
    tokens += int64_t(row.size() - start);
  }
  std::printf("answer NLL: trainer %.7f, direct %.7f over %lld tokens\n", with_lm.fields.at("lm_loss").get<double>(),
              nll / double(tokens), static_cast<long long>(tokens));
  EXPECT_NEAR(with_lm.fields.at("lm_loss").get<double>(), nll / double(tokens), 1e-5);

  c.lm_weight = 0.0;
  StepReport without_lm = EmbedTrainer(c, std::nullopt).step(batch, 0.0);
  EXPECT_NEAR(with_lm.fields.at("info_nce").get<double>(), without_lm.fields.at("info_nce").get<double>(), 1e-5);
  c.lm_weight = 1.0;
  c.lm_target = "history";
  StepReport history = EmbedTrainer(c, std::nullopt).step(batch, 0.0);
  EXPECT_GT(std::abs(history.fields.at("lm_loss").get<double>() - with_lm.fields.at("lm_loss").get<double>()), 1e-3);
}

std::map<std::string, torch::Tensor> read_tensors(const std::string& path) {
  SafetensorsFile file(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, entry] : file.header().tensors) out[name] = file.tensor(name).clone();
  return out;
}

std::vector<double> losses(const std::string& run_dir) {
  std::vector<double> out;
  for (const auto& line : read_jsonl_file(run_dir + "/metrics.jsonl")) out.push_back(line.at("loss").get<double>());
  return out;
}

TEST(EmbedTrainer, ResumedRunEqualsTheUninterruptedOne) {
  Fixture f;
  EmbedTrainConfig whole = f.config("whole");
  whole.max_steps = 4;
  whole.lm_weight = 0.2;
  run_embed_training(whole);
  EmbedTrainConfig staged = f.config("staged");
  staged.max_steps = 4;
  staged.lm_weight = 0.2;
  EmbedRunOptions stop;
  stop.stop_after_steps = 2;
  EmbedTrainResult part = run_embed_training(staged, stop);
  EXPECT_EQ(part.steps, 2);
  EXPECT_FALSE(std::filesystem::exists(staged.run_dir + "/final"));
  EmbedRunOptions resume;
  resume.resume = true;
  run_embed_training(staged, resume);

  EXPECT_EQ(losses(whole.run_dir), losses(staged.run_dir));
  EXPECT_EQ(losses(whole.run_dir).size(), 4u);
  for (const char* file : {"/final/model.safetensors", "/final/projection.safetensors"}) {
    auto a = read_tensors(whole.run_dir + file), b = read_tensors(staged.run_dir + file);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << file << " " << name;
  }
}

TEST(EmbedTrainer, SoftPromptStepTrainsOnlyThePromptsAndRoundTrips) {
  Fixture f;
  EmbedTrainConfig first_run = f.config("head");
  first_run.max_steps = 1;
  run_embed_training(first_run);

  EmbedTrainConfig c = f.config("soft");
  c.model = first_run.run_dir + "/final";
  c.projection.init = first_run.run_dir + "/final/projection.safetensors";
  c.soft_prompt.enabled = true;
  c.soft_prompt.clusters = 3;
  c.soft_prompt.tokens = 6;
  c.optimizer.lr = 3e-2;
  EmbedTrainer trainer(c, std::nullopt);
  ASSERT_EQ(trainer.optimizer().params().size(), 1u);
  EXPECT_EQ(trainer.optimizer().params()[0].second.sizes(), (std::vector<int64_t>{3, 6, 32}));
  auto base = snapshot(trainer.model().hf_tensors());
  auto head = snapshot(trainer.head_tensors());
  auto prompts = snapshot(trainer.optimizer().params());
  std::vector<double> l;
  for (int i = 0; i < 8; ++i) l.push_back(trainer.step(first(8), 3e-2).loss);
  expect_unchanged(base, trainer.model().hf_tensors());
  expect_unchanged(head, trainer.head_tensors());
  expect_all_changed(prompts, trainer.optimizer().params());
  EXPECT_LT(l.back(), l.front()) << l.front() << " -> " << l.back();

  trainer.write_model_files(f.dir.path());
  auto saved = read_tensors(f.dir.file("soft_prompts.safetensors"));
  EXPECT_TRUE(torch::equal(saved.at("prompts"), trainer.optimizer().params()[0].second.detach()));
  EXPECT_EQ(saved.at("centroids").sizes(), (std::vector<int64_t>{3, 16}));
}

TEST(EmbedTrainTool, TrainsAndRejectsBadConfigAndDataWithExitTwo) {
  Fixture f;
  EmbedTrainConfig c = f.config("tool");
  c.max_steps = 2;
  write_file_atomic(f.dir.file("embed.json"), config_to_json(c).dump(2));
  auto ok = test::run_tool("upm-train", "embed --config " + f.dir.file("embed.json"));
  ASSERT_EQ(ok.code, 0) << ok.output;
  EXPECT_TRUE(std::filesystem::exists(c.run_dir + "/final/projection.safetensors"));
  EXPECT_EQ(losses(c.run_dir).size(), 2u);

  auto bad = test::run_tool("upm-train", "embed --config " + f.dir.file("embed.json") +
                                             " --set batch_size=1 --set run_dir=" + f.dir.file("x"));
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("batch_size"), std::string::npos) << bad.output;
  auto soft = test::run_tool("upm-train", "embed --config " + f.dir.file("embed.json") +
                                              " --set soft_prompt.enabled=true --set run_dir=" + f.dir.file("y"));
  EXPECT_EQ(soft.code, 2) << soft.output;
  EXPECT_NE(soft.output.find("projection.init"), std::string::npos) << soft.output;

  write_file_atomic(f.dir.file("bad_pairs.jsonl"),
                    "{\"user_id\": \"synth-1\", \"query\": \"q\", \"positive\": \"p\"}\n{\"user_id\": \"nobody\", "
                    "\"query\": \"q\", \"positive\": \"p\"}\n");
  auto unknown = test::run_tool("upm-train", "embed --config " + f.dir.file("embed.json") + " --set data.pairs=" +
                                                 f.dir.file("bad_pairs.jsonl") + " --set run_dir=" + f.dir.file("z"));
  EXPECT_EQ(unknown.code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("bad_pairs.jsonl:2: user_id"), std::string::npos) << unknown.output;
}

TEST(EmbedData, HoldOutRemovesTheNewestPositivesFromTheHistory) {
  TempDir dir;
  auto data = test::write_synth_embed_data(dir.path(), 5, 1, 3);
  auto pairs = read_embed_pairs(data.pairs);
  EXPECT_EQ(pairs.size(), 15u);
  auto histories = data::read_user_logs(data.logs);
  for (size_t u = 0; u < histories.size(); ++u) {
    EXPECT_EQ(histories[u].events.size() + 3, data.world.logs[u].events.size());
  }
  for (const auto& p : pairs) EXPECT_TRUE(p.query == test::kItemQuery || p.query == test::kStyleQuery);
  write_file_atomic(dir.file("p.jsonl"), "{\"user_id\": \"u\", \"query\": \"\", \"positive\": \"x\"}\n");
  UPM_EXPECT_THROW_WITH(read_embed_pairs(dir.file("p.jsonl")), InputError, "p.jsonl:1: query");
}

}  // namespace
}  // namespace upm
