// The chat-completions wire format: round trips, field-named errors, and
// garbage that must be refused with an InputError (never a crash).

#include "upm/openai/chat_wire.h"

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "upm/core/error.h"
#include "upm/openai/base_url.h"

namespace upm::test {
namespace {

using nlohmann::json;
using openai::ChatRequest;
using openai::ChatResponse;

ChatRequest full_request() {
  ChatRequest r;
  r.model = "judge";
  r.messages = {{"system", "Be brief."}, {"user", "Item A or Item B?"}, {"assistant", "A"}};
  r.temperature = 0.7;
  r.top_p = 0.9;
  r.max_tokens = 12;
  r.n = 3;
  r.seed = 18446744073709551615ULL;
  r.stop = {"</profile>", "\n\n"};
  r.logprobs = true;
  r.top_logprobs = 5;
  r.enable_thinking = false;
  return r;
}

TEST(ChatWire, RequestRoundTrips) {
  ChatRequest r = full_request();
  ChatRequest back = openai::chat_request_from_json(json::parse(openai::to_json(r).dump()), "request body");
  EXPECT_EQ(back.model, r.model);
  ASSERT_EQ(back.messages.size(), 3u);
  EXPECT_EQ(back.messages[2].role, "assistant");
  EXPECT_EQ(back.messages[1].content, "Item A or Item B?");
  EXPECT_DOUBLE_EQ(back.temperature, 0.7);
  EXPECT_DOUBLE_EQ(back.top_p, 0.9);
  EXPECT_EQ(back.max_tokens, 12);
  EXPECT_EQ(back.n, 3);
  EXPECT_EQ(back.seed, r.seed);
  EXPECT_EQ(back.stop, r.stop);
  EXPECT_TRUE(back.logprobs);
  EXPECT_EQ(back.top_logprobs, 5);
  EXPECT_EQ(back.enable_thinking, std::optional<bool>(false));
}

TEST(ChatWire, RequestDefaultsNullsAndOpenAIVariants) {
  json body = json::parse(R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi "},
      {"type": "text", "text": "there"}]}], "temperature": null, "seed": -1, "stop": "END",
      "max_completion_tokens": 7, "max_tokens": 99, "n": 2.0, "unknown_field": {"x": 1}})");
  ChatRequest r = openai::chat_request_from_json(body, "request body");
  EXPECT_EQ(r.messages[0].content, "Hi there");
  EXPECT_DOUBLE_EQ(r.temperature, 1.0);  // null = absent = OpenAI's default
  EXPECT_EQ(r.seed, std::optional<uint64_t>(~0ULL));
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.max_tokens, 7);  // max_completion_tokens wins
  EXPECT_EQ(r.n, 2);
  EXPECT_FALSE(r.logprobs);
  EXPECT_FALSE(r.enable_thinking.has_value());
}

void expect_request_error(const std::string& body, const std::string& needle) {
  UPM_EXPECT_THROW_WITH(openai::chat_request_from_json(json::parse(body), "request body"), InputError, needle);
}

TEST(ChatWire, RequestErrorsNameTheField) {
  expect_request_error(R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                          {"role": "robot", "content": "c"}]})",
                       "request body: messages[2].role: expected one of system|user|assistant, got \"robot\"");
  expect_request_error(R"({"model": "m"})", "request body: messages: missing");
  expect_request_error(R"({"messages": []})", "request body: messages: expected at least one message");
  expect_request_error(R"({"messages": "hi"})", "request body: messages: expected an array, got string");
  expect_request_error(R"({"messages": [{"role": "user"}]})", "request body: messages[0].content: missing");
  expect_request_error(R"({"messages": [{"role": "user", "content": 5}]})",
                       "messages[0].content: expected a string, got number");
  expect_request_error(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
                       "messages[0].content[0].type: expected one of text");
  const std::string ok = R"("messages": [{"role": "user", "content": "x"}])";
  expect_request_error("{" + ok + R"(, "temperature": 3})",
                       "request body: temperature: expected a number in [0, 2], got 3");
  expect_request_error("{" + ok + R"(, "top_p": 0})", "request body: top_p: expected a number in (0, 1]");
  expect_request_error("{" + ok + R"(, "max_tokens": "many"})", "request body: max_tokens: expected an integer");
  expect_request_error("{" + ok + R"(, "max_tokens": 0})", "request body: max_tokens: expected an integer in [1,");
  expect_request_error("{" + ok + R"(, "n": 1.5})", "request body: n: expected an integer");
  expect_request_error("{" + ok + R"(, "n": 18446744073709551615})", "request body: n: expected an integer");
  expect_request_error("{" + ok + R"(, "top_logprobs": 3})", "request body: top_logprobs: needs \"logprobs\": true");
  expect_request_error("{" + ok + R"(, "logprobs": true, "top_logprobs": 21})",
                       "top_logprobs: expected an integer in [0, 20]");
  expect_request_error("{" + ok + R"(, "logprobs": "yes"})", "request body: logprobs: expected true or false");
  expect_request_error("{" + ok + R"(, "stop": [""]})", "request body: stop: stop strings must not be empty");
  expect_request_error("{" + ok + R"(, "stop": 3})", "request body: stop: expected a string or an array of strings");
  expect_request_error("{" + ok + R"(, "stream": true})", "request body: stream: streaming is not supported");
  expect_request_error("[1, 2]", "request body: expected an object, got array");
}

ChatResponse sample_response() {
  ChatResponse r;
  r.id = "chatcmpl-1";
  r.model = "judge";
  r.created = 1700000000;
  r.prompt_tokens = 11;
  r.completion_tokens = 3;
  openai::ChatChoice c;
  c.index = 0;
  c.content = "A";
  c.finish_reason = "stop";
  // A token that is half of a UTF-8 character ("\xC3" of "é") must survive exactly via "bytes".
  c.logprobs = {{"A", -0.25, {{"A", -0.25}, {"B", -1.5}, {"\xC3", -7.0}}},
                {"\xC3", -std::numeric_limits<double>::infinity(), {}}};
  r.choices.push_back(c);
  c.index = 1;
  c.content = "B";
  c.finish_reason = "length";
  c.logprobs.clear();
  r.choices.push_back(c);
  return r;
}

TEST(ChatWire, ResponseRoundTripsWithLogprobsAndUsage) {
  json wire = openai::to_json(sample_response());
  const std::string text = wire.dump();  // valid UTF-8 despite the partial-character token
  json parsed = json::parse(text);
  EXPECT_EQ(parsed["object"], "chat.completion");
  EXPECT_EQ(parsed["usage"]["total_tokens"], 14);
  EXPECT_EQ(parsed["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(parsed["choices"][1]["logprobs"].is_null());
  const json& first = parsed["choices"][0]["logprobs"]["content"][0];
  EXPECT_EQ(first["token"], "A");
  EXPECT_EQ(first["bytes"], json::array({65}));
  EXPECT_EQ(first["top_logprobs"][1]["token"], "B");
  EXPECT_DOUBLE_EQ(parsed["choices"][0]["logprobs"]["content"][1]["logprob"].get<double>(), openai::kMinWireLogprob);

  ChatResponse back = openai::chat_response_from_json(parsed, "response");
  EXPECT_EQ(back.id, "chatcmpl-1");
  EXPECT_EQ(back.created, 1700000000);
  EXPECT_EQ(back.prompt_tokens, 11);
  EXPECT_EQ(back.completion_tokens, 3);
  ASSERT_EQ(back.choices.size(), 2u);
  EXPECT_EQ(back.choices[1].finish_reason, "length");
  ASSERT_EQ(back.choices[0].logprobs.size(), 2u);
  EXPECT_EQ(back.choices[0].logprobs[0].top_logprobs[2].token, "\xC3");  // exact bytes back
  EXPECT_EQ(back.choices[0].logprobs[1].token, "\xC3");
  EXPECT_EQ(openai::top_logprob(back.choices[0], 0, "B"), std::optional<double>(-1.5));
  EXPECT_EQ(openai::top_logprob(back.choices[0], 0, "C"), std::nullopt);
  EXPECT_EQ(openai::top_logprob(back.choices[0], 5, "A"), std::nullopt);
}

TEST(ChatWire, ResponseErrorsNameTheField) {
  auto expect_error = [](const std::string& body, const std::string& needle) {
    UPM_EXPECT_THROW_WITH(openai::chat_response_from_json(json::parse(body), "response from X"), InputError, needle);
  };
  expect_error(R"({"id": "x"})", "response from X: choices: missing");
  expect_error(R"({"choices": [{"index": 0}]})", "response from X: choices[0].message: missing");
  expect_error(R"({"choices": [{"message": {"content": 5}}]})", "choices[0].message.content: expected a string");
  expect_error(R"({"choices": [{"message": {"content": "a"}, "logprobs": {"content": [{"token": "a"}]}}]})",
               "choices[0].logprobs.content[0].logprob: missing");
  expect_error(
      R"({"choices": [{"message": {"content": "a"}, "logprobs": {"content": [{"token": "a", "logprob": 0.5}]}}]})",
      "choices[0].logprobs.content[0].logprob: expected a number in [-inf, ");
  expect_error(R"({"choices": [], "usage": {"prompt_tokens": -1}})", "usage.prompt_tokens: expected an integer");
  // A null content (tool calls, refusals) is an empty answer, not an error.
  EXPECT_EQ(openai::chat_response_from_json(json::parse(R"({"choices": [{"message": {"content": null}}]})"), "r")
                .choices[0]
                .content,
            "");
}

// Random JSON documents built from the fields' own vocabulary: each parse
// either succeeds or throws InputError; nothing else escapes.
json random_value(std::mt19937& rng, int depth) {
  static const std::vector<std::string> keys = {"model",
                                                "messages",
                                                "role",
                                                "content",
                                                "temperature",
                                                "top_p",
                                                "max_tokens",
                                                "n",
                                                "seed",
                                                "stop",
                                                "logprobs",
                                                "top_logprobs",
                                                "choices",
                                                "message",
                                                "index",
                                                "finish_reason",
                                                "token",
                                                "bytes",
                                                "usage",
                                                "prompt_tokens",
                                                "type",
                                                "text",
                                                "chat_template_kwargs"};
  switch (rng() % (depth > 4 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return bool(rng() % 2);
    case 2: return int64_t(rng()) - int64_t(1) * (rng() % 3 == 0 ? (1LL << 40) : 0);
    case 3: return double(int(rng() % 2000) - 1000) / 7.0;
    case 4: return std::vector<std::string>{"user", "system", "robot", "", "\xff"}[rng() % 5];
    case 5: return uint64_t(-1);
    case 6: {
      json a = json::array();
      for (unsigned i = rng() % 4; i > 0; --i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (unsigned i = rng() % 6; i > 0; --i) o[keys[rng() % keys.size()]] = random_value(rng, depth + 1);
      return o;
    }
  }
}

TEST(ChatWire, GarbageIsRefusedWithInputErrors) {
  std::mt19937 rng(3);
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    json doc = random_value(rng, 0);
    try {
      openai::chat_request_from_json(doc, "request body");
      ++accepted;
    } catch (const InputError&) {}
    try {
      auto r = openai::chat_response_from_json(doc, "response");
      openai::to_json(r).dump();  // and it serialises again
      ++accepted;
    } catch (const InputError&) {}
  }
  EXPECT_GT(accepted, 0);  // the generator does reach valid documents
}

TEST(ChatWire, BaseUrlParsing) {
  auto b = openai::parse_base_url("http://127.0.0.1:8000/v1/");
  EXPECT_EQ(b.origin, "http://127.0.0.1:8000");
  EXPECT_EQ(b.path, "/v1");
  EXPECT_EQ(b.url_of("/models"), "http://127.0.0.1:8000/v1/models");
  EXPECT_EQ(openai::parse_base_url("https://api.example.com").path, "");
  UPM_EXPECT_THROW_WITH(openai::parse_base_url("ftp://x/v1"), InputError, "base_url: unsupported scheme \"ftp\"");
  UPM_EXPECT_THROW_WITH(openai::parse_base_url("127.0.0.1:8000"), InputError, "base_url: no scheme");
  UPM_EXPECT_THROW_WITH(openai::parse_base_url("http://:80/v1"), InputError, "base_url: no host");
  UPM_EXPECT_THROW_WITH(openai::parse_base_url("http://h:99999"), InputError, "base_url: port out of range");
  UPM_EXPECT_THROW_WITH(openai::parse_base_url("http://h:8x"), InputError, "base_url: bad port");
}

}  // namespace
}  // namespace upm::test
