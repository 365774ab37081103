// upm-eval with remote predictors (infer/remote_predictor.h).
//
// Against upm-serve: its ChatServer (in process, loopback, port 0) serves a
// tiny judge SFT-trained for 40 steps to answer the predict prompt with the
// bare letter; one eval runs that endpoint as a remote predictor and the same
// folder as a local predictor in label mode with prompt_format chat (thinking
// off), answer_label "letter" and answer_prefix "", under a none, a history
// and a profiles condition. What holds, per predictor x condition x task: the
// same shown order, the same prompt_tokens (the server's usage count of the
// chat-rendered prompt is the local predictor's count of the same ids), and
// the same label scores and probabilities within 1e-4. The server's
// top_logprobs are the model's fp32 log-softmax after the prompt; the local
// label score is log p("A" | prompt) from the scorer's own forward pass. With
// the tiny BPE tokenizer "A" is one token and no other reads as it (" A" is
// "Ġ" + "A"), so the remote's best token reading as a label is the one the
// local predictor scores. The test asserts the labels rank in the top 20 (no
// remote score at the floor) and that P(correct) varies across prompts;
// otherwise both sides could agree on constants.
//
// Against hand-written endpoints: every task gets its line from the first
// token's top_logprobs with no tokenizer at hand; an endpoint that fails names
// its URL; bad remote configs name the file and each field, exit 2.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "pipeline_test_util.h"
#include "serve/fake_endpoint.h"
#include "serve/serve_test_util.h"
#include "train/rl_test_util.h"
#include "upm/data/benchmark.h"
#include "upm/data/user_log.h"
#include "upm/openai/chat_wire.h"
#include "upm/pipeline/eval/evaluator.h"

namespace upm::test {
namespace {

using nlohmann::json;

// predictions.jsonl lines of one predictor, keyed by "condition/task_id".
std::map<std::string, json> predictions_of(const std::vector<json>& lines, const std::string& predictor) {
  std::map<std::string, json> out;
  for (const auto& line : lines) {
    if (line.at("predictor") == predictor)
      out[line.at("condition").get<std::string>() + "/" + line.at("task_id").get<std::string>()] = line;
  }
  return out;
}

TEST(EvalRemote, PredictorServedByUpmServeScoresAsTheSameModelRunLocally) {
  TempDir dir;
  const std::string model = sft_model(dir.path(), "judge", letter_judge_rows(), 40, 3, 3e-3, "qwen3");
  serve::ChatEngine engine(serve::load_chat_model(model, ModelRuntime{}, "judge"));
  RunningServer server({}, engine);

  const TopicWorld world = make_topic_world(4, 21, "r");
  data::write_benchmark(dir.file("tasks.jsonl"), world.tasks);
  data::write_user_logs(dir.file("history.jsonl"), world.logs);
  std::vector<std::string> profiles;
  for (size_t u = 0; u < world.logs.size(); ++u) {
    profiles.push_back(json{{"user_id", world.logs[u].user_id}, {"profile", world.liked[u]}}.dump());
  }
  write_lines(dir.file("profiles.jsonl"), profiles);

  const json config = {{"benchmark", dir.file("tasks.jsonl")},
                       {"run_dir", dir.file("run")},
                       {"prompts", {{"templates_dir", data_path("train/rl_prompts")}}},
                       {"predictors",
                        {{{"name", "local"},
                          {"model", model},
                          {"prompt_format", {{"kind", "chat"}, {"enable_thinking", false}}},
                          {"answer_label", "letter"},
                          {"answer_prefix", ""},
                          {"seed", 5}},
                         {{"name", "remote"},
                          {"kind", "remote"},
                          {"remote", {{"base_url", server.base_url()}, {"model", "judge"}, {"max_retries", 0}}},
                          {"tokenizer", model},
                          {"seed", 5}}}},
                       {"conditions",
                        {{{"kind", "none"}},
                         {{"kind", "history"}, {"history", dir.file("history.jsonl")}, {"history_tokens", 64}},
                         {{"kind", "profiles"}, {"profiles", dir.file("profiles.jsonl")}}}},
                       {"batch_tasks", 8}};
  const json report = run_evaluation(config_from_json<EvalConfig>(config, "test"));

  const auto lines = read_json_lines(dir.file("run/predictions.jsonl"));
  ASSERT_EQ(lines.size(), 2 * 3 * world.tasks.size());  // every predictor x condition x task
  const auto local = predictions_of(lines, "local");
  const auto remote = predictions_of(lines, "remote");
  ASSERT_EQ(local.size(), 3 * world.tasks.size());
  ASSERT_EQ(remote.size(), local.size());
  int floors = 0;
  double lowest = 1, highest = 0, worst = 0;
  for (const auto& [key, want] : local) {
    SCOPED_TRACE(key);
    const json& got = remote.at(key);
    EXPECT_EQ(got.at("shown_order"), want.at("shown_order"));
    EXPECT_EQ(got.at("prompt_tokens"), want.at("prompt_tokens"));
    EXPECT_NEAR(got.at("p_correct").get<double>(), want.at("p_correct").get<double>(), 1e-4);
    for (size_t k = 0; k < want.at("scores").size(); ++k) {
      const double w = want.at("scores")[k].get<double>(), g = got.at("scores")[k].get<double>();
      EXPECT_NEAR(g, w, 1e-4);
      worst = std::max(worst, std::abs(g - w));
      if (g == -30.0) ++floors;
    }
    if (std::abs(want.at("p_correct").get<double>() - 0.5) > 1e-3) EXPECT_EQ(got.at("choice"), want.at("choice"));
    lowest = std::min(lowest, want.at("p_correct").get<double>());
    highest = std::max(highest, want.at("p_correct").get<double>());
  }
  std::printf("largest label score difference, remote vs local: %.3g; P(correct) from %.4f to %.4f\n", worst, lowest,
              highest);
  EXPECT_EQ(floors, 0) << "labels outside the endpoint's top 20: the comparison would read the floor";
  EXPECT_GT(highest - lowest, 0.01) << "a constant judge: the comparison would be vacuous";
  ASSERT_EQ(report.at("results").size(), 6u);
  EXPECT_EQ(report.at("results")[3].at("predictor"), "remote");
  EXPECT_EQ(report.at("results")[4].at("missing_inputs"), 0);
}

// A chat completion whose first token's alternatives say P("A"), P(" B").
openai::ChatResponse letter_response(double a, double b, int64_t prompt_tokens) {
  openai::ChatResponse r;
  r.model = "judge";
  openai::ChatChoice choice;
  choice.content = "A";
  choice.finish_reason = "length";
  openai::TokenLogprob first;
  first.token = "A";
  first.logprob = a;
  first.top_logprobs = {{"A", a}, {" B", b}, {"Item", -6.0}};
  choice.logprobs = {first};
  r.choices = {choice};
  r.prompt_tokens = prompt_tokens;
  r.completion_tokens = 1;
  return r;
}

json remote_spec(const openai::OpenAIClientConfig& client) {
  return {{"kind", "remote"},
          {"remote", {{"base_url", client.base_url}, {"model", client.model}, {"max_retries", 0}}},
          {"shuffle_options", false}};
}

TEST(EvalRemote, EveryTaskIsReadFromTheFirstTokenWithoutATokenizer) {
  std::atomic<int> first_token_requests{0};
  FakeEndpoint endpoint([&](const httplib::Request& req, httplib::Response& res) {
    const openai::ChatRequest request = openai::chat_request_from_json(json::parse(req.body), "request");
    if (request.max_tokens == 1 && request.top_logprobs == 20 && request.enable_thinking == false)
      ++first_token_requests;
    res.set_content(openai::to_json(letter_response(-0.2, -1.8, 40)).dump(), "application/json");
  });
  TempDir dir;
  write_lines(dir.file("bench.jsonl"),
              {R"({"user_id": "u0", "task_id": "t0", "context": "Pick.", "options": ["x", "y"], "label": 0})",
               R"({"user_id": "u1", "task_id": "t1", "context": "Pick.", "options": ["x", "y", "z"], "label": 1})",
               R"({"user_id": "u2", "task_id": "t2", "context": "Pick.", "options": ["x", "y"], "label": 1})"});
  write_lines(dir.file("profiles.jsonl"), {R"({"user_id": "u0", "profile": "Likes x."})"});
  json spec = remote_spec(endpoint.config());
  spec["name"] = "far judge";
  const json config = {
      {"benchmark", dir.file("bench.jsonl")},
      {"run_dir", dir.file("run")},
      {"prompts", {{"max_predict_tokens", 30}}},
      {"predictors", {spec}},
      {"conditions", {{{"kind", "none"}}, {{"kind", "profiles"}, {"profiles", dir.file("profiles.jsonl")}}}}};
  const json report = run_evaluation(config_from_json<EvalConfig>(config, "test"));
  EXPECT_EQ(first_token_requests.load(), 6);
  const auto lines = read_json_lines(dir.file("run/predictions.jsonl"));
  ASSERT_EQ(lines.size(), 6u);
  const double p_a = 1 / (1 + std::exp(-1.8 + 0.2));
  for (const auto& line : lines) {
    SCOPED_TRACE(line.dump());
    EXPECT_EQ(line.at("predictor"), "far judge");
    EXPECT_EQ(line.at("prompt_tokens"), 40);
    const bool three = line.at("task_id") == "t1";
    // Option C is not among the alternatives: the floor.
    if (three) EXPECT_DOUBLE_EQ(line.at("scores")[2].get<double>(), -30.0);
    EXPECT_NEAR(line.at("probabilities")[0].get<double>(),
                three ? std::exp(-0.2) / (std::exp(-0.2) + std::exp(-1.8) + std::exp(-30.0)) : p_a, 1e-12);
    EXPECT_EQ(line.at("choice"), 0);
  }
  EXPECT_EQ(report.at("results")[0].at("prompts_over_budget"), 3);  // 40 endpoint tokens > 30
  EXPECT_EQ(report.at("results")[1].at("missing_inputs"), 2);
  // The resolved config names the endpoint's settings and none of a local predictor's keys.
  const json resolved = read_json_file(dir.file("run/config.json")).at("predictors")[0];
  EXPECT_EQ(resolved.at("remote").at("base_url"), endpoint.config().base_url);
  EXPECT_EQ(resolved.at("remote").at("concurrency"), 4);
  EXPECT_FALSE(resolved.contains("model"));
  EXPECT_FALSE(resolved.contains("prompt_format"));
  EXPECT_NO_THROW(config_from_json<EvalConfig>(read_json_file(dir.file("run/config.json")), "config.json"));
}

TEST(EvalRemote, AnEndpointThatFailsIsNamedAndNoReportIsWritten) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("overloaded", "text/plain");
  });
  FakeEndpoint no_logprobs([](const httplib::Request&, httplib::Response& res) {
    openai::ChatResponse r = letter_response(-0.1, -2.0, 3);
    r.choices[0].logprobs.clear();
    res.set_content(openai::to_json(r).dump(), "application/json");
  });
  TempDir dir;
  write_lines(dir.file("bench.jsonl"),
              {R"({"user_id": "u0", "task_id": "t0", "context": "Pick.", "options": ["x", "y"], "label": 0})"});
  for (const bool failing : {true, false}) {
    const std::string url = (failing ? endpoint : no_logprobs).config().base_url;
    const json config = {{"benchmark", dir.file("bench.jsonl")},
                         {"run_dir", dir.file(failing ? "run500" : "runbare")},
                         {"predictors", {remote_spec((failing ? endpoint : no_logprobs).config())}},
                         {"conditions", {{{"kind", "none"}}}}};
    const EvalConfig c = config_from_json<EvalConfig>(config, "test");
    if (failing) {
      UPM_EXPECT_THROW_WITH(run_evaluation(c), openai::RemoteError, url + "/chat/completions");
    } else {
      UPM_EXPECT_THROW_WITH(run_evaluation(c), InputError, "response from " + url);
    }
    EXPECT_FALSE(std::filesystem::exists(c.run_dir + "/report.json"));
    EXPECT_FALSE(std::filesystem::exists(c.run_dir + "/predictions.jsonl"));
  }
}

TEST(EvalRemote, BadRemoteConfigNamesTheFileAndEveryFieldAndExitsTwo) {
  TempDir dir;
  write_lines(dir.file("bench.jsonl"),
              {R"({"user_id": "u0", "task_id": "t0", "context": "Pick.", "options": ["x", "y"], "label": 0})"});
  const json config = {{"benchmark", dir.file("bench.jsonl")},
                       {"run_dir", dir.file("run")},
                       {"predictors",
                        {{{"kind", "remote"},
                          {"model", "models/judge"},
                          {"prompt_format", {{"kind", "chat"}}},
                          {"mode", "continuation"},
                          {"remote", {{"base_url", "localhost:8000/v1"}, {"modle", "judge"}}}},
                         {{"model", tiny_model_dir()}, {"missing_label_logprob", -20}}}},
                       {"conditions", {{{"kind", "history"}, {"history", dir.file("bench.jsonl")}}}}};
  write_lines(dir.file("eval.json"), {config.dump(2)});
  const ToolResult result = run_tool("upm-eval", "--config " + dir.file("eval.json"));
  EXPECT_EQ(result.code, 2) << result.output;
  for (const char* field :
       {"eval.json", "predictors[0].model", "predictors[0].prompt_format", "predictors[0].mode",
        "predictors[0].remote.model: required", "predictors[0].remote.modle", "predictors[0].remote.base_url",
        "predictors[0].tokenizer", "predictors[1].missing_label_logprob"}) {
    EXPECT_NE(result.output.find(field), std::string::npos) << field << " not in:\n" << result.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

}  // namespace
}  // namespace upm::test
