// ChatServer over HTTP on loopback against the same model in-process:
// greedy and seeded group sampling token-identical, log-probs equal to
// infer's scoring, limits and auth with OpenAI-shaped errors.

#include "upm/serve/chat_server.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <httplib.h>
#include <torch/torch.h>

#include "serve_test_util.h"
#include "upm/infer/generator.h"
#include "upm/infer/scorer.h"
#include "upm/infer/text_generation.h"
#include "upm/infer/token_logprobs.h"
#include "upm/serve/token_alternatives.h"
#include "upm/text/tokenizer.h"
#include "upm/text/utf8.h"

namespace upm::test {
namespace {

using nlohmann::json;

std::vector<upm::ChatMessage> as_chat(const openai::ChatRequest& r) {
  std::vector<upm::ChatMessage> chat;
  for (const auto& m : r.messages) chat.push_back({m.role, m.content});
  return chat;
}

GenerationConfig in_process_config(const openai::ChatRequest& r) {
  GenerationConfig config;
  config.sampling.temperature = r.temperature;
  config.sampling.top_p = r.top_p;
  config.sampling.seed = r.seed.value_or(0);
  config.max_new_tokens = r.max_tokens;
  config.stop_strings = r.stop;
  return config;
}

// The request's continuations computed in-process by infer (generate_chat / a group).
std::vector<Generation> in_process(const openai::ChatRequest& r) {
  LanguageModel& lm = tiny_model();
  Generator generator(*lm.model, lm.tokenizer.get());
  const ChatTemplate chat_template = ChatTemplate::for_model(tiny_model_dir());
  if (r.n == 1) return generate_chat(generator, chat_template, {as_chat(r)}, in_process_config(r));
  ChatOptions options;
  options.add_generation_prompt = true;
  return generate_text_group(generator, chat_template.render(as_chat(r), options), r.n, in_process_config(r));
}

TEST(ChatServer, GreedyOverHttpEqualsInProcess) {
  RunningServer server;
  openai::OpenAIClient client(server.client_config());
  openai::ChatRequest request = user_request("Which item does the user prefer?", 12);
  request.logprobs = true;  // chosen-token log-probs show the tokens one by one
  openai::ChatResponse answer = client.chat(request);
  std::vector<Generation> expected = in_process(request);
  ASSERT_EQ(answer.choices.size(), 1u);
  const auto& choice = answer.choices[0];
  // The random model writes partial UTF-8 characters: JSON carries them repaired (U+FFFD) ...
  EXPECT_EQ(choice.content, text::utf8_lossy(expected[0].text));
  EXPECT_EQ(choice.finish_reason, expected[0].finish_reason == FinishReason::length ? "length" : "stop");
  EXPECT_EQ(answer.completion_tokens, int64_t(expected[0].tokens.size()));
  EXPECT_EQ(answer.prompt_tokens, int64_t(serve_engine().prompt_ids(request).size()));
  ASSERT_EQ(choice.logprobs.size(), expected[0].tokens.size());
  for (size_t j = 0; j < expected[0].tokens.size(); ++j) {
    const std::string piece = tiny_model().tokenizer->decode({TokenId(expected[0].tokens[j])});
    EXPECT_EQ(choice.logprobs[j].token, piece) << "position " << j;  // ... and the tokens exactly (bytes)
    EXPECT_EQ(choice.logprobs[j].logprob, double(expected[0].logprobs[j])) << "position " << j;  // exact through JSON
  }
  EXPECT_FALSE(answer.id.empty());
  EXPECT_GT(answer.created, 0);
}

TEST(ChatServer, SeededGroupIsReproducibleAndEqualsInProcessGroup) {
  RunningServer server;
  openai::OpenAIClient client(server.client_config());
  openai::ChatRequest request = user_request("Write a profile.", 10);
  request.temperature = 1.0;
  request.top_p = 0.95;
  request.n = 4;
  request.seed = 17;
  openai::ChatResponse first = client.chat(request);
  openai::ChatResponse second = client.chat(request);
  std::vector<Generation> expected = in_process(request);
  ASSERT_EQ(first.choices.size(), 4u);
  std::set<std::string> distinct;
  for (size_t g = 0; g < 4; ++g) {
    EXPECT_EQ(first.choices[g].index, int64_t(g));
    EXPECT_EQ(first.choices[g].content, second.choices[g].content);
    EXPECT_EQ(first.choices[g].content, text::utf8_lossy(expected[g].text)) << "sample " << g;
    distinct.insert(first.choices[g].content);
  }
  EXPECT_GT(distinct.size(), 1u);  // a group, not one sample four times
  request.seed = 18;
  EXPECT_NE(client.chat(request).choices[0].content, first.choices[0].content);
}

TEST(ChatServer, StopStringsCutTheText) {
  RunningServer server;
  openai::OpenAIClient client(server.client_config());
  openai::ChatRequest request = user_request("Tell me more.", 16);
  const std::string full = in_process(request)[0].text;
  // A letter whose first occurrence is past the start: the text ends right before it.
  size_t cut = std::string::npos;
  for (size_t i = 1; i < full.size() && cut == std::string::npos; ++i) {
    if (std::isalpha(static_cast<unsigned char>(full[i])) && full.find(full[i]) == i) cut = i;
  }
  ASSERT_NE(cut, std::string::npos) << full;
  request.stop = {full.substr(cut, 1)};
  openai::ChatResponse answer = client.chat(request);
  EXPECT_EQ(answer.choices[0].content, text::utf8_lossy(full.substr(0, cut)));
  EXPECT_EQ(answer.choices[0].finish_reason, "stop");
}

// Every top alternative is the log-softmax value infer's score_options gives
// that token after the prompt and the generated prefix; with k = vocabulary
// the alternatives are the whole distribution (they sum to 1).
TEST(ChatServer, TokenAlternativesEqualInfersScoring) {
  LanguageModel& lm = tiny_model();
  std::vector<int64_t> prompt = serve_engine().prompt_ids(user_request("Item A or Item B?"));
  std::vector<int64_t> continuation = in_process(user_request("Item A or Item B?", 5))[0].tokens;
  const int64_t vocab = lm.model->config().vocab_size;
  auto alternatives = serve::token_alternatives(*lm.model, prompt, {continuation, {continuation[0]}}, vocab);
  ASSERT_EQ(alternatives.size(), 2u);
  ASSERT_EQ(alternatives[0].size(), continuation.size());
  std::vector<int64_t> whole = prompt;
  whole.insert(whole.end(), continuation.begin(), continuation.end());
  std::vector<float> teacher_forced = token_logprobs(*lm.model, {whole})[0];
  for (size_t j = 0; j < continuation.size(); ++j) {
    const auto& at = alternatives[0][j];
    EXPECT_NEAR(at.chosen, teacher_forced[prompt.size() - 1 + j], 1e-4) << "position " << j;
    EXPECT_EQ(at.top[0].first, continuation[j]);  // greedy: the chosen token is the most likely
    double total = 0;
    for (size_t r = 1; r < at.top.size(); ++r) EXPECT_GE(at.top[r - 1].second, at.top[r].second);
    for (const auto& [id, lp] : at.top) total += std::exp(double(lp));
    EXPECT_NEAR(total, 1.0, 1e-4);
    // A handful of alternatives against score_options after the same prefix.
    ScoringRequest request{std::vector<int64_t>(whole.begin(), whole.begin() + int64_t(prompt.size() + j)), {}};
    for (size_t r : {size_t(0), size_t(1), size_t(7), size_t(vocab - 1)}) request.options.push_back({at.top[r].first});
    auto scores = score_options(*lm.model, {request})[0];
    for (size_t o = 0; o < scores.size(); ++o) {
      const size_t r = std::vector<size_t>{0, 1, 7, size_t(vocab - 1)}[o];
      EXPECT_NEAR(at.top[r].second, scores[o].total, 1e-4) << "position " << j << " rank " << r;
    }
  }
  // A one-token continuation reads only the prompt's last logits: same numbers.
  EXPECT_NEAR(alternatives[1][0].chosen, alternatives[0][0].chosen, 1e-6);
}

// What the RL judge does: one answer token, its top log-probs, P("A") vs P("B").
TEST(ChatServer, TopLogprobsOverHttpAreTheModelsLogSoftmax) {
  RunningServer server;
  openai::OpenAIClient client(server.client_config());
  openai::ChatRequest request = user_request("Item A or Item B? Answer with one letter.", 1);
  request.logprobs = true;
  request.top_logprobs = 20;
  openai::ChatResponse answer = client.chat(request);
  ASSERT_EQ(answer.choices[0].logprobs.size(), 1u);
  const auto& first = answer.choices[0].logprobs[0];
  ASSERT_EQ(first.top_logprobs.size(), 20u);

  LanguageModel& lm = tiny_model();
  const std::vector<int64_t> prompt = serve_engine().prompt_ids(request);
  // Token text -> id for the texts only one id decodes to.
  std::map<std::string, std::vector<int64_t>> ids_of;
  for (int64_t id = 0; id < lm.tokenizer->vocab_size(); ++id) ids_of[lm.tokenizer->decode({TokenId(id)})].push_back(id);
  ScoringRequest scoring{prompt, {}};
  std::vector<size_t> ranks;
  for (size_t r = 0; r < first.top_logprobs.size(); ++r) {
    const auto& ids = ids_of[first.top_logprobs[r].token];
    if (ids.size() != 1) continue;
    scoring.options.push_back({ids[0]});
    ranks.push_back(r);
  }
  ASSERT_GE(ranks.size(), 10u);
  auto scores = score_options(*lm.model, {scoring})[0];
  for (size_t o = 0; o < ranks.size(); ++o) {
    const auto& alt = first.top_logprobs[ranks[o]];
    EXPECT_NEAR(alt.logprob, scores[o].total, 1e-4) << "token \"" << alt.token << "\"";
    // The judge's reader finds the same value by token text.
    EXPECT_EQ(openai::top_logprob(answer.choices[0], 0, alt.token), std::optional<double>(alt.logprob));
  }
  EXPECT_EQ(first.token, first.top_logprobs[0].token);  // greedy picks the most likely
  EXPECT_DOUBLE_EQ(first.logprob, first.top_logprobs[0].logprob);
}

TEST(ChatServer, ConcurrentRequestsQueueOnTheModelAndStayExact) {
  RunningServer server;
  auto config = server.client_config();
  config.concurrency = 4;
  openai::OpenAIClient client(config);
  std::vector<openai::ChatRequest> requests;
  for (int i = 0; i < 6; ++i) requests.push_back(user_request("Question number " + std::to_string(i), 6));
  auto answers = client.chat_many(requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(answers[i].choices[0].content, text::utf8_lossy(in_process(requests[i])[0].text));
  }
}

TEST(ChatServer, ListsItsModelAndAnswersHealth) {
  RunningServer server;
  openai::OpenAIClient client(server.client_config());
  EXPECT_EQ(client.models(), std::vector<std::string>{"tiny-qwen3"});
  httplib::Client http("127.0.0.1", server.port());
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
}

// POSTs `body` and returns {status, parsed error object}.
std::pair<int, json> post(int port, const std::string& body, const std::string& path = "/v1/chat/completions",
                          const std::string& key = "") {
  httplib::Client http("127.0.0.1", port);
  if (!key.empty()) http.set_bearer_token_auth(key);
  auto res = http.Post(path, body, "application/json");
  if (!res) return {0, json()};
  json parsed = json::parse(res->body, nullptr, false);
  return {res->status, parsed};
}

void expect_error(const std::pair<int, json>& got, int status, const std::string& code, const std::string& needle) {
  EXPECT_EQ(got.first, status);
  ASSERT_TRUE(got.second.is_object() && got.second.contains("error")) << got.second.dump();
  const json& error = got.second["error"];
  EXPECT_TRUE(error["type"].is_string());
  EXPECT_EQ(error["code"], code);
  EXPECT_NE(error["message"].get<std::string>().find(needle), std::string::npos) << error["message"];
}

std::string body_with(const std::string& extra) {
  return R"({"messages": [{"role": "user", "content": "hi"}])" + extra + "}";
}

TEST(ChatServer, LimitsAndBadRequestsGiveOpenAIErrors) {
  serve::ChatServerConfig limits;
  limits.max_tokens = 64;
  limits.max_n = 2;
  limits.max_body_bytes = 2000;
  RunningServer server(limits);
  const int port = server.port();
  expect_error(post(port, body_with(R"(, "max_tokens": 65)")), 400, "invalid_value",
               "max_tokens: 65 exceeds this server's limit of 64");
  EXPECT_EQ(post(port, body_with(R"(, "max_tokens": 65)")).second["error"]["param"], "max_tokens");
  expect_error(post(port, body_with(R"(, "n": 3)")), 400, "invalid_value", "n: 3 exceeds this server's limit of 2");
  expect_error(post(port, body_with(R"(, "temperature": -1)")), 400, "invalid_value",
               "request body: temperature: expected a number in [0, 2]");
  expect_error(post(port, R"({"messages": [{"role": "bot", "content": "x"}]})"), 400, "invalid_value",
               "request body: messages[0].role: expected one of system|user|assistant");
  expect_error(post(port, "{not json"), 400, "invalid_json", "request body: not valid JSON");
  expect_error(post(port, body_with(R"(, "model": "gpt-4")")), 404, "model_not_found", "\"gpt-4\" is not served here");
  expect_error(post(port, body_with(", \"pad\": \"" + std::string(3000, 'x') + "\"")), 413, "request_too_large",
               "request body exceeds 2000 bytes");
  expect_error(post(port, "{}", "/v1/completions"), 404, "not_found", "no such route");
  // Still serving after all that.
  EXPECT_EQ(post(port, body_with(R"(, "max_tokens": 2)")).first, 200);
}

TEST(ChatServer, PromptPlusMaxTokensBeyondTheContextWindowIs400) {
  serve::ChatServerConfig limits;
  limits.max_tokens = 1 << 20;
  RunningServer server(limits);
  const int64_t window = serve_engine().context_window();
  expect_error(post(server.port(), body_with(", \"max_tokens\": " + std::to_string(window))), 400,
               "context_length_exceeded", "exceed the model's context window of " + std::to_string(window));
}

TEST(ChatServer, BearerTokenIsRequiredWhenConfigured) {
  ::setenv("UPM_SERVE_TEST_SERVER_KEY", "k-123", 1);
  serve::ChatServerConfig config;
  config.api_key_env = "UPM_SERVE_TEST_SERVER_KEY";
  RunningServer server(config);
  const std::string ok = body_with(R"(, "max_tokens": 2)");
  expect_error(post(server.port(), ok), 401, "invalid_api_key", "missing or wrong API key");
  expect_error(post(server.port(), ok, "/v1/chat/completions", "k-124"), 401, "invalid_api_key", "API key");
  EXPECT_EQ(post(server.port(), ok, "/v1/chat/completions", "k-123").first, 200);
  httplib::Client http("127.0.0.1", server.port());
  EXPECT_EQ(http.Get("/v1/models")->status, 401);
  EXPECT_EQ(http.Get("/health")->status, 200);  // probes need no key

  auto client_config = server.client_config();
  client_config.api_key_env = "UPM_SERVE_TEST_SERVER_KEY";
  openai::OpenAIClient client(client_config);
  EXPECT_EQ(client.models(), std::vector<std::string>{"tiny-qwen3"});
  openai::OpenAIClient anonymous(server.client_config());
  UPM_EXPECT_THROW_WITH(anonymous.chat(user_request("x")), openai::RemoteError, "HTTP 401");
  ::unsetenv("UPM_SERVE_TEST_SERVER_KEY");
  UPM_EXPECT_THROW_WITH(serve::ChatServer(serve_engine(), config), InputError,
                        "environment variable UPM_SERVE_TEST_SERVER_KEY is not set");
}

}  // namespace
}  // namespace upm::test
