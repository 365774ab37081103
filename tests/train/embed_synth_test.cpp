// The Q-Anchor claim on synthetic users: after a short `upm-train embed`
// on CPU, query-aware embeddings beat the query-free baseline (the mean-pooled
// history of the same model and head) in a linear probe's AUC, on tasks about
// DIFFERENT latent attributes: which topics a user likes (item query) and
// which answer style they prefer (style query). This file MEASURES that claim
// (run_demo). With the bundled judge as base it is not met (docs/embed.md,
// "The pretrained demo base"); with data/demo-writer, a base that reads
// histories, it is (WriterBaseQueryBeatsQueryFreeOnTopicsAndStyle; with the
// tone-reading writer on topics only: style is a tie).
//
// Users are split: the first half gives the training pairs (held-out
// positives), the probe runs on the other half, whose behaviour the model
// never trained on. The probe's AUC is averaged over 3 train/test splits.
#include <numeric>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "embed_train_test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/pipeline/embedding/embedding_io.h"
#include "upm/pipeline/embedding/embedding_job.h"
#include "upm/pipeline/embedding/embedding_probe.h"
#include "upm/embed/embedding_prompts.h"
#include "upm/text/tokenizer.h"
#include "upm/train/embed_trainer.h"
#include "upm/core/source_dir.h"

namespace upm {
namespace {

using test::TempDir;

struct DemoSettings {
  int64_t users = 160;  // half train, half probe
  int64_t steps = 400;
  uint64_t seed = 0;
  int64_t history_tokens = 256;
  int64_t field_chars = 1000;
  int vocab = 0;            // > 0: a SentencePiece tokenizer trained on the world's text
  int64_t probe_users = 0;  // 0 = the other half
  double lr = 3e-3;
  // "" = a fresh random tiny model; else a pretrained model folder (full fine-tuning
  // or LoRA), e.g. data/demo-model, which has its own tokenizer.
  std::string base;
  bool category_first = false;      // item text "Category: horror | Title: ..."
  bool category_positives = false;  // the item query's positive is the item's category only
  bool lora = false;
  int64_t lora_rank = 8;
  double lm_weight = 0.1;
  double temperature = 0.07;
  int64_t batch = 16;
  int64_t head_out = 32;
  int64_t warmup = 10;
  int64_t min_events = 14, max_events = 20;
  // The history and queries in the form the demo model was trained to judge
  // (configs/prompts/predict_history_blind.txt): "Task: <question> ... Answer:",
  // the item query ending in "Answer: Category:" so that its last token is where
  // the model names the category it expects the user to choose.
  bool judge_prompts = false;
  // The history and queries in the form data/demo-writer was trained on
  // (configs/prompts/profile.txt, then its fixed <think> note): the item query
  // ends in "</think>Likes", where the writer names the topics the user likes,
  // the style query in "</think>Prefers", where it names the answer style.
  bool writer_prompts = false;
  // The training objective. false: the one every table in docs/embed.md was
  // measured with (query-document negatives only, the next-token loss on the
  // history); true: the trainer's defaults, Q-Anchor's published objective
  // (three kinds of negatives, the loss on the answer).
  bool published_objective = false;
};

struct GroupAuc {
  double query = 0.0, baseline = 0.0;
};

struct DemoResult {
  GroupAuc topics, style;
};

// "Category: horror and romance | The Silent Orbit: ..." -> "Category: horror and romance".
const char* kJudgeHistory = "Here are a user's most recent actions, oldest first, one per line:\n{{events}}\n";
const char* kJudgeAsk = "\nJudging only from these actions, what did this user choose?\nAnswer:";
std::string judge_item_query() {
  return std::string("\nTask: Which would you rather read next?") + kJudgeAsk + " Category:";
}
std::string judge_style_query() { return std::string("\nTask: How can I sleep better?") + kJudgeAsk; }

// configs/prompts/profile.txt cut after the events; the rest of it, the
// writer's <think> note (configs/demo/build_sft.json) and the first word of
// the profile sentence make the query.
const char* kWriterHistory =
    "You are studying one user's behavior in order to describe their preferences.\n\n"
    "Below are the user's actions, oldest first, one per line: ratings, choices between two answers, clicks and "
    "things they wrote, from different sources. {{num_dropped}} older actions were left out for length.\n\n"
    "{{events}}\n";
std::string writer_query(const char* first_word) {
  return std::string(
             "\nFirst think step by step inside <think>...</think>. Then write the user's profile in plain language: "
             "what they like and dislike (topics, kinds of items, styles) and how they like answers to be written. "
             "Keep every detail the actions support and invent nothing.<think>I look at the ratings, clicks, choices "
             "and posts.</think>") +
         first_word;
}

// The query text of the item (or style) family in the settings' prompt form.
std::string form_query(const DemoSettings& d, bool item) {
  if (d.writer_prompts) return writer_query(item ? "Likes" : "Prefers");
  if (d.judge_prompts) return item ? judge_item_query() : judge_style_query();
  return item ? test::kItemQuery : test::kStyleQuery;
}

std::string category_of(const std::string& item) { return item.substr(0, item.find(" | ")); }

DemoResult run_demo(const DemoSettings& d) {
  TempDir dir;
  data::SynthConfig sc = test::small_synth_config(d.users, int64_t(d.seed), d.min_events, d.max_events);
  sc.category_first = d.category_first;
  test::SynthEmbedData all = test::write_synth_embed_data(dir.path(), sc, 4);
  std::string model_dir = dir.file("model");
  if (!d.base.empty()) {
    model_dir = d.base;
  } else if (d.vocab > 0) {
    test::write_synth_model_folder(model_dir, all.world, d.field_chars, d.vocab, 11 + d.seed);
  } else {
    test::write_tiny_model_folder(model_dir, "qwen3", /*marker=*/true, 11 + d.seed);
  }
  const int64_t train_users = d.probe_users > 0 ? d.users - d.probe_users : d.users / 2;

  // Training pairs of the first half only.
  std::vector<EmbedPair> pairs = read_embed_pairs(all.pairs), train_pairs;
  std::set<std::string> train_ids;
  for (int64_t u = 0; u < train_users; ++u) train_ids.insert(all.world.logs[size_t(u)].user_id);
  for (auto p : pairs) {
    if (!train_ids.count(p.user_id)) continue;
    if (d.category_positives && p.query == test::kItemQuery) p.positive = category_of(p.positive);
    p.query = form_query(d, p.query == test::kItemQuery);
    train_pairs.push_back(p);
  }
  write_embed_pairs(dir.file("train_pairs.jsonl"), train_pairs);
  test::SynthEmbedData train = all;
  train.pairs = dir.file("train_pairs.jsonl");

  EmbedTrainConfig c = test::tiny_embed_config(dir.file("run"), model_dir, train);
  c.max_steps = d.steps;
  c.batch_size = d.batch;
  c.optimizer.lr = d.lr;
  c.optimizer.weight_decay = 0.0;
  c.schedule.kind = "cosine";
  c.schedule.warmup_steps = d.warmup;
  c.lm_weight = d.lm_weight;
  c.info_nce.temperature = d.temperature;
  if (!d.published_objective) {
    c.info_nce.negatives.query_query = false;
    c.info_nce.negatives.document_query = false;
    c.lm_target = "history";
  }
  c.projection.out = d.head_out;
  c.lora.enabled = d.lora;
  c.lora.rank = d.lora_rank;
  c.lora.alpha = 2.0 * double(d.lora_rank);
  c.seed = d.seed;
  c.log_every = 25;
  c.text.prompts.max_prompt_tokens = d.history_tokens;
  c.text.prompts.max_field_chars = d.field_chars;
  if (d.judge_prompts || d.writer_prompts) {
    write_file_atomic(dir.file("history.txt"), d.writer_prompts ? kWriterHistory : kJudgeHistory);
    c.text.prompts.profile_template = dir.file("history.txt");
    c.text.query_template = "{{query}}";
  }
  run_embed_training(c);

  // Probe users: the second half, full logs.
  std::vector<data::UserLog> probe_logs(all.world.logs.begin() + train_users, all.world.logs.end());
  data::write_user_logs(dir.file("probe_logs.jsonl"), probe_logs);
  write_file_atomic(dir.file("queries.jsonl"),
                    nlohmann::json{{"query_id", "items"}, {"text", form_query(d, true)}}.dump() + "\n" +
                        nlohmann::json{{"query_id", "style"}, {"text", form_query(d, false)}}.dump() + "\n");
  EmbedJobConfig job;
  job.text = c.text;
  if (d.lora) job.adapter = c.run_dir + "/final";
  job.embedder.mean_pooled = true;
  job.projection = c.run_dir + "/final/projection.safetensors";
  EmbedJobPaths paths{d.lora ? model_dir : c.run_dir + "/final", dir.file("probe_logs.jsonl"),
                      dir.file("queries.jsonl"), dir.file("emb")};
  EmbedJobReport jr = run_embedding_job(paths, job);
  // How much of each history the model actually sees (see the tokenizer test below).
  std::cout << "probe users " << jr.users << ", history tokens per user " << jr.history_tokens / jr.users
            << ", events dropped per user " << double(jr.events_dropped) / double(jr.users) << std::endl;
  EmbeddingTable table = read_embedding_table(dir.file("emb"));

  std::vector<ProbeLabel> labels;
  for (size_t u = size_t(train_users); u < all.world.truth.size(); ++u) {
    const data::SynthTruth& t = all.world.truth[u];
    for (const auto& topic : data::synth_topics()) {
      const bool likes = std::count(t.likes.begin(), t.likes.end(), topic) > 0;
      labels.push_back({t.user_id, "likes " + topic, "items", likes ? 1 : 0});
    }
    labels.push_back({t.user_id, "concise", "style", t.verbosity == "concise" ? 1 : 0});
    labels.push_back({t.user_id, "formal", "style", t.tone == "formal" ? 1 : 0});
  }
  DemoResult result;
  int topic_count = 0, style_count = 0;
  for (uint64_t split = 0; split < 3; ++split) {
    ProbeConfig pc;
    pc.seed = split;
    nlohmann::json report = run_probe(table, labels, pc);
    for (const auto& task : report.at("tasks")) {
      // A split without both classes among its test users has no AUC (null).
      if (!task.at("query").at("auc").is_number() || !task.at("baseline").at("auc").is_number()) continue;
      const double q = task.at("query").at("auc").get<double>(), b = task.at("baseline").at("auc").get<double>();
      GroupAuc& g = task.at("query_id") == "items" ? result.topics : result.style;
      (task.at("query_id") == "items" ? topic_count : style_count) += 1;
      g.query += q;
      g.baseline += b;
    }
  }
  result.topics.query /= topic_count;
  result.topics.baseline /= topic_count;
  result.style.query /= style_count;
  result.style.baseline /= style_count;
  spdlog::info("seed {}: topics AUC query {:.3f} vs baseline {:.3f}; style AUC query {:.3f} vs baseline {:.3f}", d.seed,
               result.topics.query, result.topics.baseline, result.style.query, result.style.baseline);
  std::cout << "seed " << d.seed << ": topics " << result.topics.query << " vs " << result.topics.baseline << "; style "
            << result.style.query << " vs " << result.style.baseline << std::endl;
  return result;
}

// Measurement harness (not a check): settings from $UPM_EMBED_DEMO (JSON), e.g.
// {"base": "data/demo-model", "seed": 3, "steps": 200}; run with
// --gtest_also_run_disabled_tests --gtest_filter=EmbedSynth.DISABLED_Measure.
TEST(EmbedSynth, DISABLED_Measure) {
  const char* env = std::getenv("UPM_EMBED_DEMO");
  nlohmann::json j = nlohmann::json::parse(env ? env : "{}");
  DemoSettings d;
  d.users = j.value("users", d.users);
  d.steps = j.value("steps", d.steps);
  d.seed = j.value("seed", d.seed);
  d.history_tokens = j.value("history_tokens", d.history_tokens);
  d.field_chars = j.value("field_chars", d.field_chars);
  d.vocab = j.value("vocab", d.vocab);
  d.probe_users = j.value("probe_users", d.probe_users);
  d.lr = j.value("lr", d.lr);
  d.base = j.value("base", d.base);
  if (!d.base.empty() && d.base[0] != '/') d.base = upm::source_dir() + "/" + d.base;
  d.category_first = j.value("category_first", d.category_first);
  d.category_positives = j.value("category_positives", d.category_positives);
  d.lora = j.value("lora", d.lora);
  d.lora_rank = j.value("lora_rank", d.lora_rank);
  d.lm_weight = j.value("lm_weight", d.lm_weight);
  d.temperature = j.value("temperature", d.temperature);
  d.batch = j.value("batch", d.batch);
  d.head_out = j.value("head_out", d.head_out);
  d.warmup = j.value("warmup", d.warmup);
  d.min_events = j.value("min_events", d.min_events);
  d.judge_prompts = j.value("judge_prompts", d.judge_prompts);
  d.writer_prompts = j.value("writer_prompts", d.writer_prompts);
  d.published_objective = j.value("published_objective", d.published_objective);
  d.max_events = j.value("max_events", d.max_events);
  std::cout << "settings " << j.dump() << std::endl;
  run_demo(d);
}

// The settings measured in docs/embed.md ("The pretrained demo base
// (data/demo-model)"): data/demo-model (a ~1M-parameter Qwen3 trained on another synthetic
// world, seed 100) fine-tuned in full, on a category-first world of 400 users
// (the first 200 give the training pairs, the probe runs on the other 200),
// whole histories (1024 tokens, fields cut at 64 characters), the item query's
// positive being the held-out item's category.
DemoSettings pretrained_settings(uint64_t seed) {
  DemoSettings d;
  d.base = upm::source_dir() + "/data/demo-model";
  d.seed = seed;
  d.users = 400;
  d.probe_users = 200;
  d.steps = 150;
  d.lr = 5e-4;
  d.lm_weight = 0.1;
  d.history_tokens = 1024;
  d.field_chars = 64;
  d.category_first = true;
  d.category_positives = true;
  return d;
}

// The claim is NOT met with this base (docs/embed.md, "The pretrained demo base"): seed 3
// gave style query 0.565 vs baseline 0.475 and topics 0.540 vs 0.537, but seed
// 5 reversed both (topics 0.505 vs 0.544, style 0.513 vs 0.553), so no margin
// is asserted. This test pins the documented seed-3 measurement (one thread,
// fixed seeds: deterministic) so that the table stays reproducible; a change
// that moves these numbers must re-measure and update the docs.
TEST(EmbedSynth, SlowPretrainedBaseReproducesTheDocumentedSeed3Aucs) {
  DemoResult r = run_demo(pretrained_settings(3));
  EXPECT_NEAR(r.topics.query, 0.540, 0.01);
  EXPECT_NEAR(r.topics.baseline, 0.537, 0.01);
  EXPECT_NEAR(r.style.query, 0.565, 0.01);
  EXPECT_NEAR(r.style.baseline, 0.475, 0.01);
}

// The default-suite variant: the same pipeline on the same pretrained base
// (fallback embedding position: the demo model has no <USER_EMB>) at a size
// that runs in seconds, no margin claimed: every task gets finite AUCs.
TEST(EmbedSynth, ShortRunProducesQueryAndBaselineScoresForEveryTask) {
  DemoSettings d = pretrained_settings(3);
  d.users = 80;
  d.probe_users = 40;
  d.steps = 2;
  d.batch = 8;
  d.warmup = 0;
  DemoResult r = run_demo(d);
  for (double auc : {r.topics.query, r.topics.baseline, r.style.query, r.style.baseline}) {
    EXPECT_TRUE(std::isfinite(auc));
    EXPECT_GE(auc, 0.0);
    EXPECT_LE(auc, 1.0);
  }
}

// The Q-Anchor claim on a base that reads histories (docs/embed.md,
// "A base that reads: data/demo-writer"): data/demo-writer, asked in its own prompt form, embeds at the
// token where it names the user's liked topics ("</think>Likes") or answer
// style ("</think>Prefers"). On 150 users it never trained on, after 5 short
// steps, the query-aware embeddings beat the query-free baseline (the same
// model's mean-pooled history) on topics by > 0.15 AUC (phase-1 writer:
// 0.745 vs 0.525; seeds 5, 11: +0.28, +0.23; the shipped tone-reading
// writer: 0.739 vs 0.484). On style the phase-1 writer's
// query-aware embedding won by a smaller margin (0.706 vs 0.669; seeds 5, 11:
// +0.05, +0.12); the tone-reading writer's query-free embedding already
// carries style (0.869) and the query-aware one matches it (0.854), so style
// is held to within 0.05 of the baseline.
TEST(EmbedSynth, WriterBaseQueryBeatsQueryFreeOnTopicsAndStyle) {
  DemoSettings d = pretrained_settings(3);
  d.base = upm::source_dir() + "/data/demo-writer";
  d.writer_prompts = true;
  d.field_chars = 1000;  // the writer read whole item texts
  d.users = 200;
  d.probe_users = 150;
  d.steps = 5;
  d.batch = 8;
  d.warmup = 0;
  DemoResult r = run_demo(d);
  EXPECT_GT(r.topics.query, r.topics.baseline + 0.15);
  EXPECT_GT(r.style.query, r.style.baseline - 0.05);
  EXPECT_GT(r.style.query, 0.75);  // far above chance (0.5)
}

// Why the topic tasks get no signal in the measured runs: with the test
// tokenizer (tiny_bpe, nearly character level) one rendered event costs ~120
// tokens, so the 256-token history budget keeps about one event of ~14
// (the rest are dropped oldest first) -- no user's topic preferences can be
// read from that. A SentencePiece tokenizer trained on the world's own text
// (write_synth_model_folder) with fields cut at 64 characters fits whole
// histories in 1024 tokens.
TEST(EmbedSynth, WorldTokenizerFitsWholeHistoriesWhereTheTestTokenizerKeepsOneEvent) {
  TempDir dir;
  test::SynthEmbedData data = test::write_synth_embed_data(dir.path(), 40, 0, 4);
  auto dropped_share = [&](const std::string& tokenizer, int64_t budget, int64_t field_chars) {
    EmbeddingPromptConfig text;
    text.prompts.max_prompt_tokens = budget;
    text.prompts.max_field_chars = field_chars;
    EmbeddingPrompts prompts(load_tokenizer(tokenizer), text);
    int64_t kept = 0, dropped = 0;
    for (const auto& log : data.world.logs) {
      HistoryTokens h = prompts.history(log);
      EXPECT_LE(int64_t(h.ids.size()), budget);
      kept += h.events_kept;
      dropped += h.events_dropped;
    }
    return double(dropped) / double(kept + dropped);
  };
  EXPECT_GT(dropped_share(test::tiny_tokenizer_json(), 256, 1000), 0.85);
  test::write_synth_model_folder(dir.file("model"), data.world, 64, 1000, 1);
  EXPECT_LT(dropped_share(dir.file("model"), 1024, 64), 0.02);
}

}  // namespace
}  // namespace upm
