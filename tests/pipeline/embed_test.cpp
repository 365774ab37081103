// Q-Anchor embeddings: the prefix-shared path equals a full forward per
// query; files round-trip; bad input is reported with its location.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "embed_test_util.h"
#include "upm/data/user_log.h"
#include "upm/model/safetensors.h"
#include "upm/embed/embedder.h"
#include "upm/pipeline/embedding/embedding_io.h"
#include "upm/pipeline/embedding/embedding_job.h"
#include "upm/embed/embedding_projection.h"
#include "upm/embed/embedding_prompts.h"
#include "upm/text/tokenizer.h"

namespace upm {
namespace {

using test::TempDir;

std::vector<int64_t> random_ids(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  auto t = torch::randint(0, test::kTinyVocab, {n}, torch::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

// Queries of unequal lengths, so that batches hold right padding.
std::vector<std::vector<int64_t>> some_queries() {
  std::vector<std::vector<int64_t>> qs;
  for (int64_t len : {5, 1, 9, 3, 7}) qs.push_back(random_ids(len, 100 + len));
  return qs;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

class EmbedderFamilies : public ::testing::TestWithParam<std::string> {};

TEST_P(EmbedderFamilies, SharedPrefixEqualsFromScratch) {
  EmbedderSettings settings;
  settings.query_batch = 2;    // 5 queries: three batches reuse the working slots
  settings.prefill_chunk = 7;  // the history is prefilled in several chunks
  settings.mean_pooled = true;
  Embedder embedder(test::tiny_model(GetParam()), nullptr, settings);
  const auto queries = some_queries();
  // A long history first, then a shorter one: the cache is reused, not refilled.
  for (int64_t history_length : {61, 23}) {
    const auto history = random_ids(history_length, history_length);
    UserEmbeddings e = embedder.embed(history, queries);
    ASSERT_EQ(e.queries.sizes(), (std::vector<int64_t>{5, 32}));
    for (size_t q = 0; q < queries.size(); ++q) {
      torch::Tensor reference = embedder.embed_from_scratch(history, queries[q]);
      EXPECT_LT(max_diff(e.queries[int64_t(q)], reference), 1e-5) << "query " << q << " history " << history_length;
      EXPECT_NEAR(e.queries[int64_t(q)].norm().item<double>(), 1.0, 1e-6);
    }
    // Different queries give different embeddings (the query matters).
    EXPECT_GT(max_diff(e.queries[0], e.queries[2]), 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, EmbedderFamilies, ::testing::Values("qwen3", "llama", "qwen2"));

TEST(Embedder, CommonQueryStartIsPrefilledOnceWithTheSameResults) {
  // Queries sharing a 4-token start (like the template's "\nQuery:"); one is
  // only that start plus a token.
  const auto start = random_ids(4, 42);
  std::vector<std::vector<int64_t>> queries;
  for (int64_t len : {1, 6, 3}) {
    auto q = start;
    for (int64_t id : random_ids(len, 50 + len)) q.push_back(id);
    queries.push_back(q);
  }
  EmbedderSettings shared, unshared;
  shared.mean_pooled = unshared.mean_pooled = true;
  shared.query_batch = 2;
  unshared.share_query_prefix = false;
  auto model = test::tiny_model("qwen2");
  Embedder a(model, nullptr, shared), b(model, nullptr, unshared);
  const auto history = random_ids(30, 8);
  UserEmbeddings ea = a.embed(history, queries), eb = b.embed(history, queries);
  EXPECT_LT(max_diff(ea.queries, eb.queries), 1e-5);
  for (size_t q = 0; q < queries.size(); ++q) {
    EXPECT_LT(max_diff(ea.queries[int64_t(q)], a.embed_from_scratch(history, queries[q])), 1e-5);
  }
  // The pooled baseline covers the history only, not the shared query start.
  EXPECT_LT(max_diff(ea.mean_pooled, eb.mean_pooled), 1e-5);
}

TEST(Embedder, MeanPooledIsTheMeanOfTheHistoryHiddenStates) {
  auto model = test::tiny_model("qwen3");
  EmbedderSettings settings;
  settings.mean_pooled = true;
  settings.prefill_chunk = 10;
  Embedder embedder(model, nullptr, settings);
  const auto history = random_ids(37, 5);
  UserEmbeddings e = embedder.embed(history, {random_ids(4, 6)});
  c10::InferenceMode guard;
  ForwardInput in;
  in.input_ids = torch::tensor(history, torch::kLong).view({1, 37});
  in.logits_for = LogitsFor::none;
  torch::Tensor mean = model->forward(in).hidden[0].mean(0);
  mean = mean / mean.norm();
  EXPECT_LT(max_diff(e.mean_pooled, mean), 1e-5);
}

TEST(Embedder, ProjectionHeadRoundTripsAndApplies) {
  TempDir dir;
  auto model = test::tiny_model("llama");
  torch::manual_seed(3);
  EmbeddingProjection head(32, 24, 16);
  save_embedding_projection(head, dir.file("head.safetensors"));
  auto loaded = load_embedding_projection(dir.file("head.safetensors"), 32, torch::TensorOptions());
  EXPECT_TRUE(torch::equal(loaded->fc2->weight, head.fc2->weight));

  Embedder embedder(model, loaded, EmbedderSettings{});
  EXPECT_EQ(embedder.dim(), 16);
  const auto history = random_ids(20, 9);
  const auto queries = some_queries();
  UserEmbeddings e = embedder.embed(history, queries);
  ASSERT_EQ(e.queries.size(1), 16);
  // The head's output at the query position, normalised.
  EmbedderSettings unnormalized;
  unnormalized.normalize = false;
  Embedder raw(model, nullptr, unnormalized);
  torch::Tensor h = raw.embed_from_scratch(history, queries[2]);
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = head.forward(h);
  }
  expected = expected / expected.norm();
  EXPECT_LT(max_diff(e.queries[2], expected), 1e-5);

  UPM_EXPECT_THROW_WITH(load_embedding_projection(dir.file("head.safetensors"), 48, torch::TensorOptions()), InputError,
                        "fc1.weight: wrong shape; expected [24, 48]");
  write_safetensors(dir.file("extra.safetensors"), {{"fc1.weight", torch::zeros({4, 32})},
                                                    {"fc1.bias", torch::zeros({4})},
                                                    {"fc2.weight", torch::zeros({2, 4})},
                                                    {"fc2.bias", torch::zeros({2})},
                                                    {"fc3.bias", torch::zeros({2})}});
  UPM_EXPECT_THROW_WITH(load_embedding_projection(dir.file("extra.safetensors"), 32, torch::TensorOptions()),
                        InputError, "fc3.bias: unexpected tensor");
}

TEST(EmbeddingPrompts, MarkerTokenWhenTheTokenizerHasOneElseLastQueryToken) {
  TempDir dir;
  test::write_tiny_model_folder(dir.file("marked"), "qwen3", true);
  std::shared_ptr<const Tokenizer> marked = load_tokenizer(dir.file("marked"));
  std::shared_ptr<const Tokenizer> plain = load_tokenizer(test::tiny_tokenizer_json());

  EmbeddingPrompts with_marker(marked, EmbeddingPromptConfig{});
  EmbeddingPrompts fallback(plain, EmbeddingPromptConfig{});
  EXPECT_EQ(with_marker.marker(), "token:<USER_EMB>");
  EXPECT_EQ(fallback.marker(), "last_query_token");
  auto q_marked = with_marker.query("Does this user like horror?");
  auto q_plain = fallback.query("Does this user like horror?");
  EXPECT_EQ(q_marked.back(), 865);
  EXPECT_EQ(std::vector<int64_t>(q_marked.begin(), q_marked.end() - 1), q_plain);
  EXPECT_EQ(plain->decode(std::vector<TokenId>(q_plain.begin(), q_plain.end())),
            "\nQuery: Does this user like horror?");

  EmbeddingPromptConfig strict;
  strict.require_marker = true;
  UPM_EXPECT_THROW_WITH(EmbeddingPrompts(plain, strict), InputError, "no token '<USER_EMB>'");
}

TEST(EmbeddingPrompts, HistoryKeepsTheNewestEventsWithinTheBudget) {
  std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(test::tiny_tokenizer_json());
  data::UserLog log;
  log.user_id = "u1";
  for (int i = 0; i < 40; ++i) {
    data::Event e;
    e.id = "e" + std::to_string(i);
    e.kind = data::EventKind::text;
    e.text = "I wrote message number " + std::to_string(i) + " about films";
    log.events.push_back(e);
  }
  EmbeddingPromptConfig config;
  config.prompts.max_prompt_tokens = 200;
  EmbeddingPrompts prompts(tokenizer, config);
  HistoryTokens h = prompts.history(log);
  EXPECT_LE(int64_t(h.ids.size()), 201);  // + BOS when the tokenizer has one
  EXPECT_GT(h.events_dropped, 0);
  EXPECT_EQ(h.events_kept + h.events_dropped, 40);
  const std::string text = tokenizer->decode(std::vector<TokenId>(h.ids.begin(), h.ids.end()), true);
  EXPECT_NE(text.find("message number 39"), std::string::npos);
  EXPECT_EQ(text.find("message number 0 "), std::string::npos);
}

// --- the job and its files ---

const char* kLogs =
    R"({"user_id": "u1", "events": [{"id": "e1", "kind": "rating", "item": "Heat (1995) | Action", "value": 5}, {"id": "e2", "kind": "text", "text": "I never watch horror."}]}
{"user_id": "u2", "events": [{"id": "e1", "kind": "click", "item": "Gardening tips"}]}
{"user_id": "u3", "events": [{"id": "e1", "kind": "pairwise", "context": "Explain RL", "chosen": "short", "rejected": "long"}]}
)";
const char* kQueries = R"({"query_id": "horror", "text": "Does this user like horror films?"}
{"query_id": "garden", "text": "Is this user a gardener?"}
)";

struct JobFiles {
  TempDir dir;
  std::string model, logs, queries;
  explicit JobFiles(bool marker) {
    model = dir.file("model");
    test::write_tiny_model_folder(model, "qwen3", marker);
    logs = dir.file("logs.jsonl");
    queries = dir.file("queries.jsonl");
    test::write_text_file(logs, kLogs);
    test::write_text_file(queries, kQueries);
  }
};

TEST(EmbeddingJob, WritesEmbeddingsAndIndexThatMatchDirectComputation) {
  JobFiles files(true);
  EmbedJobConfig config;
  config.embedder.mean_pooled = true;
  EmbedJobReport report = run_embedding_job({files.model, files.logs, files.queries, files.dir.file("emb")}, config);
  EXPECT_EQ(report.users, 3);
  EXPECT_EQ(report.rows, 9);
  EXPECT_EQ(report.marker, "token:<USER_EMB>");

  // The model layer's reader sees the tensor and the metadata.
  SafetensorsFile file(files.dir.file("emb.safetensors"));
  EXPECT_EQ(file.entry("embeddings").shape, (std::vector<int64_t>{9, 32}));
  EXPECT_EQ(file.header().metadata.at("marker"), "token:<USER_EMB>");
  EXPECT_EQ(file.header().metadata.at("rows"), "9");

  EmbeddingTable table = read_embedding_table(files.dir.file("emb"));
  const std::vector<std::pair<std::string, std::string>> expected_rows{
      {"u1", "horror"}, {"u1", "garden"}, {"u1", kHistoryMeanQueryId},
      {"u2", "horror"}, {"u2", "garden"}, {"u2", kHistoryMeanQueryId},
      {"u3", "horror"}, {"u3", "garden"}, {"u3", kHistoryMeanQueryId}};
  ASSERT_EQ(table.rows.size(), expected_rows.size());
  for (size_t r = 0; r < expected_rows.size(); ++r) {
    EXPECT_EQ(table.rows[r].user_id, expected_rows[r].first);
    EXPECT_EQ(table.rows[r].query_id, expected_rows[r].second);
  }
  EXPECT_EQ(test::read_text(files.dir.file("emb.index.jsonl")).substr(0, 46),
            R"({"query_id":"horror","row":0,"user_id":"u1"})"
            "\n{");

  // Row u2/garden equals a full forward over u2's history + the query + marker.
  std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(files.model);
  EmbeddingPrompts prompts(tokenizer, config.text);
  auto logs = data::read_user_logs(files.logs);
  Embedder embedder(load_pretrained(files.model), nullptr, EmbedderSettings{});
  torch::Tensor reference =
      embedder.embed_from_scratch(prompts.history(logs[1]).ids, prompts.query("Is this user a gardener?"));
  EXPECT_LT(max_diff(table.embeddings[4], reference), 1e-5);
}

TEST(EmbeddingJob, BadQueriesAndLogsNameFileLineAndField) {
  JobFiles files(false);
  EmbedJobPaths paths{files.model, files.logs, files.queries, files.dir.file("emb")};
  test::write_text_file(files.queries, "{\"query_id\": \"a\", \"text\": \"x\"}\n{\"query_id\": \"b\"}\n");
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, {}), InputError, "queries.jsonl:2: text: required field is missing");
  test::write_text_file(files.queries,
                        "{\"query_id\": \"a\", \"text\": \"x\"}\n{\"query_id\": \"a\", \"text\": \"y\"}\n");
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, {}), InputError, "queries.jsonl:2: query_id: duplicate query id");
  test::write_text_file(files.queries, "{\"query_id\": \"@history_mean\", \"text\": \"x\"}\n");
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, {}), InputError, "queries.jsonl:1: query_id: ids starting with '@'");
  test::write_text_file(files.queries, "not json\n");
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, {}), InputError, "queries.jsonl:1");

  test::write_text_file(files.queries, kQueries);
  test::write_text_file(
      files.logs, std::string(kLogs) + "{\"user_id\": \"u4\", \"events\": [{\"id\": \"e1\", \"kind\": \"rating\"}]}\n");
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, {}), InputError, "logs.jsonl:4: events[0]");
  EXPECT_FALSE(std::filesystem::exists(files.dir.file("emb.safetensors")));
}

// A job stopped after its first saved chunk (as a kill would leave it) and
// rerun ends with the same file as one uninterrupted run: every user once,
// the same numbers; the partial folder is gone. A rerun with other settings
// or another input refuses to mix its users with the saved ones.
TEST(EmbeddingJob, ResumesAfterAStopWithoutDuplicatesAndRefusesOtherSettings) {
  JobFiles files(true);
  std::string logs;
  for (int u = 0; u < 7; ++u) {
    logs += "{\"user_id\": \"u" + std::to_string(u) +
            "\", \"events\": [{\"id\": \"e1\", \"kind\": \"text\", \"text\": \"I like topic " + std::to_string(u) +
            "\"}]}\n";
  }
  test::write_text_file(files.logs, logs);
  EmbedJobConfig config;
  config.embedder.mean_pooled = true;
  config.chunk_users = 3;
  EmbedJobReport whole = run_embedding_job({files.model, files.logs, files.queries, files.dir.file("whole")}, config);
  EXPECT_FALSE(whole.stopped);
  EXPECT_FALSE(std::filesystem::exists(files.dir.file("whole.partial")));

  const EmbedJobPaths paths{files.model, files.logs, files.queries, files.dir.file("emb")};
  EmbedJobReport first = run_embedding_job(paths, config, EmbedJobControl{2});
  EXPECT_TRUE(first.stopped);
  EXPECT_EQ(first.users, 3);
  EXPECT_FALSE(std::filesystem::exists(files.dir.file("emb.safetensors")));
  EXPECT_TRUE(std::filesystem::exists(files.dir.file("emb.partial/chunk-00000.index.jsonl")));

  EmbedJobConfig other = config;
  other.embedder.mean_pooled = false;
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, other), InputError, "emb.partial/settings.json: an interrupted run");

  EmbedJobReport second = run_embedding_job(paths, config);
  EXPECT_FALSE(second.stopped);
  EXPECT_EQ(second.resumed_users, 3);
  EXPECT_EQ(second.users, 7);
  EmbeddingTable a = read_embedding_table(files.dir.file("whole")), b = read_embedding_table(paths.output);
  ASSERT_EQ(b.rows.size(), 21u);
  for (size_t r = 0; r < a.rows.size(); ++r) {
    EXPECT_EQ(b.rows[r].user_id, a.rows[r].user_id);
    EXPECT_EQ(b.rows[r].query_id, a.rows[r].query_id);
  }
  EXPECT_TRUE(torch::equal(a.embeddings, b.embeddings));
  EXPECT_FALSE(std::filesystem::exists(files.dir.file("emb.partial")));

  // Stopped again, then the input loses its first user: the saved chunk no longer fits.
  run_embedding_job(paths, config, EmbedJobControl{1});
  test::write_text_file(files.logs, logs.substr(logs.find('\n') + 1));
  UPM_EXPECT_THROW_WITH(run_embedding_job(paths, config), InputError, "logs.jsonl: user_id: user 1 is not \"u0\"");
}

TEST(EmbeddingIo, IndexThatDisagreesWithTheTensorIsRejected) {
  TempDir dir;
  EmbeddingTable table;
  table.embeddings = torch::randn({2, 3});
  table.rows = {{"u1", "q"}, {"u2", "q"}};
  write_embedding_table(dir.file("e.safetensors"), table);  // the suffix is optional
  EmbeddingTable back = read_embedding_table(dir.file("e"));
  EXPECT_TRUE(torch::equal(back.embeddings, table.embeddings));
  test::write_text_file(dir.file("e.index.jsonl"), "{\"row\": 0, \"user_id\": \"u1\", \"query_id\": \"q\"}\n");
  UPM_EXPECT_THROW_WITH(read_embedding_table(dir.file("e")), InputError, "has 1 rows but");
  test::write_text_file(dir.file("e.index.jsonl"), "{\"row\": 1, \"user_id\": \"u1\", \"query_id\": \"q\"}\n");
  UPM_EXPECT_THROW_WITH(read_embedding_table(dir.file("e")), InputError, "e.index.jsonl:1: row: expected row 0");
}

TEST(UpmEmbedTool, RunsAndExitsTwoOnBadInput) {
  JobFiles files(false);
  auto ok = test::run_tool("upm-embed", "--model " + files.model + " --input " + files.logs + " --queries " +
                                            files.queries + " --output " + files.dir.file("out"));
  ASSERT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("\"marker\":\"last_query_token\""), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("no '<USER_EMB>' token"), std::string::npos) << ok.output;
  EXPECT_EQ(read_embedding_table(files.dir.file("out")).rows.size(), 6u);

  test::write_text_file(files.logs, "{\"user_id\": \"u1\", \"events\": 3}\n");
  auto bad = test::run_tool("upm-embed", "--model " + files.model + " --input " + files.logs + " --queries " +
                                             files.queries + " --output " + files.dir.file("bad"));
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("logs.jsonl:1: events"), std::string::npos) << bad.output;

  auto missing = test::run_tool("upm-embed", "--model " + files.model);
  EXPECT_EQ(missing.code, 2) << missing.output;
  EXPECT_NE(missing.output.find("input: required: give --input"), std::string::npos) << missing.output;
}

TEST(UpmEmbedTool, ProbeSubcommandReportsQueryAndBaseline) {
  JobFiles files(true);
  std::string logs, labels;
  for (int u = 0; u < 24; ++u) {
    const bool horror = u % 3 == 0;
    const std::string id = "u" + std::to_string(u);
    logs += R"({"user_id": ")" + id + R"(", "events": [{"id": "e1", "kind": "rating", "item": ")" +
            (horror ? "Scream (1996) | Horror" : "Notting Hill | Comedy") +
            R"(", "value": 5}]})"
            "\n";
    labels += R"({"user_id": ")" + id + R"(", "task": "likes_horror", "query_id": "horror", "label": )" +
              (horror ? "1" : "0") + "}\n";
  }
  test::write_text_file(files.logs, logs);
  test::write_text_file(files.dir.file("labels.jsonl"), labels);
  auto embed =
      test::run_tool("upm-embed", "--model " + files.model + " --input " + files.logs + " --queries " + files.queries +
                                      " --output " + files.dir.file("emb") + " --set embedder.mean_pooled=true");
  ASSERT_EQ(embed.code, 0) << embed.output;
  auto probe =
      test::run_tool("upm-embed", "probe --embeddings " + files.dir.file("emb") + " --labels " +
                                      files.dir.file("labels.jsonl") + " --output " + files.dir.file("report.json"));
  ASSERT_EQ(probe.code, 0) << probe.output;
  nlohmann::json report = read_json_file(files.dir.file("report.json"));
  const auto& task = report["tasks"][0];
  EXPECT_EQ(task["task"], "likes_horror");
  EXPECT_EQ(task["users"], 24);
  EXPECT_TRUE(task["query"].contains("auc"));
  EXPECT_TRUE(task["baseline"].contains("auc"));
  EXPECT_EQ(task["query"]["test"].get<int>() + task["query"]["train"].get<int>(), 24);

  auto bad = test::run_tool("upm-embed", "probe --embeddings " + files.dir.file("emb") + " --labels " + files.logs);
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("logs.jsonl:1: task: required field is missing"), std::string::npos) << bad.output;
}

TEST(Embedder, TokenIdsOutsideTheVocabularyAreAnInputError) {
  Embedder embedder(test::tiny_model("qwen3"), nullptr, EmbedderSettings{});
  UPM_EXPECT_THROW_WITH(embedder.embed({1, 2, test::kTinyVocab}, {{3}}), InputError, "outside the model's vocabulary");
  UPM_EXPECT_THROW_WITH(embedder.embed({1, 2}, {{-1}}), InputError, "outside the model's vocabulary");
}

}  // namespace
}  // namespace upm
