// OpenAIClient against endpoints on loopback that misbehave on purpose:
// 5xx then success, 429, timeouts, malformed bodies, wrong shapes, refused
// keys, and a concurrency bound that chat_many must respect.

#include "upm/openai/openai_client.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "serve/fake_endpoint.h"
#include "test_util.h"

namespace upm::test {
namespace {

using nlohmann::json;

// A valid answer echoing the request's last message (and its model) back.
void echo(const httplib::Request& req, httplib::Response& res) {
  openai::ChatRequest request = openai::chat_request_from_json(json::parse(req.body), "request");
  openai::ChatResponse response;
  response.model = request.model;
  for (int64_t i = 0; i < request.n; ++i) {
    openai::ChatChoice c;
    c.index = i;
    c.content = "echo: " + request.messages.back().content;
    c.finish_reason = "stop";
    response.choices.push_back(c);
  }
  response.prompt_tokens = 5;
  response.completion_tokens = 2;
  res.set_content(openai::to_json(response).dump(), "application/json");
}

// A loopback port that was free a moment ago and now has no listener.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 9;  // discard: nothing listens there either
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

openai::ChatRequest ask(const std::string& text) {
  openai::ChatRequest r;
  r.messages = {{"user", text}};
  return r;
}

TEST(OpenAIClient, SendsTheRequestAndReadsTheAnswer) {
  FakeEndpoint endpoint(echo);
  openai::OpenAIClient client(endpoint.config());
  openai::ChatRequest r = ask("hello");
  r.n = 2;
  openai::ChatResponse answer = client.chat(r);
  EXPECT_EQ(answer.model, "teacher");  // the config's model filled in
  ASSERT_EQ(answer.choices.size(), 2u);
  EXPECT_EQ(answer.choices[1].content, "echo: hello");
  EXPECT_EQ(answer.prompt_tokens, 5);
  EXPECT_EQ(endpoint.requests, 1);
}

// Answers `status` to the first `failures` requests, then echoes.
Handler fail_first(int failures, int status,
                   std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0)) {
  return [=](const httplib::Request& req, httplib::Response& res) {
    if ((*calls)++ < failures) {
      res.status = status;
      res.set_content(R"({"error": {"message": "overloaded"}})", "application/json");
      return;
    }
    echo(req, res);
  };
}

TEST(OpenAIClient, RetriesServerErrorsThenSucceeds) {
  FakeEndpoint endpoint(fail_first(2, 500));
  openai::OpenAIClient client(endpoint.config());
  EXPECT_EQ(client.chat(ask("x")).choices[0].content, "echo: x");
  EXPECT_EQ(endpoint.requests, 3);
}

TEST(OpenAIClient, RetriesRateLimitsAfterRetryAfter) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  Handler limited = fail_first(1, 429, calls);
  FakeEndpoint endpoint([&](const httplib::Request& req, httplib::Response& res) {
    if (*calls == 0) res.set_header("Retry-After", "1");
    limited(req, res);
  });
  openai::OpenAIClient client(endpoint.config());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.chat(ask("y")).choices[0].content, "echo: y");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(seconds, 0.95);  // waited the server's second, not the 0.01 s backoff
  EXPECT_EQ(endpoint.requests, 2);
}

TEST(OpenAIClient, RetriesRequestTimeoutAndConflictStatuses) {
  for (int status : {408, 409}) {
    FakeEndpoint endpoint(fail_first(1, status));
    openai::OpenAIClient client(endpoint.config());
    EXPECT_EQ(client.chat(ask("z")).choices[0].content, "echo: z");
    EXPECT_EQ(endpoint.requests, 2) << status;
  }
}

TEST(OpenAIClient, GivesUpAfterTheRetriesWithTheLastReason) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content(R"({"error": {"message": "model is loading"}})", "application/json");
  });
  auto config = endpoint.config();
  config.max_retries = 2;
  openai::OpenAIClient client(config);
  UPM_EXPECT_THROW_WITH(client.chat(ask("x")), openai::RemoteError,
                        "/v1/chat/completions: failed after 3 attempt(s); last: HTTP 503: model is loading");
  EXPECT_EQ(endpoint.requests, 3);
}

TEST(OpenAIClient, TimeoutsAreRetriedThenReported) {
  FakeEndpoint endpoint([](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    echo(req, res);
  });
  auto config = endpoint.config();
  config.timeout_s = 0.2;
  config.max_retries = 1;
  openai::OpenAIClient client(config);
  const auto start = std::chrono::steady_clock::now();
  UPM_EXPECT_THROW_WITH(client.chat(ask("slow")), openai::RemoteError,
                        "failed after 2 attempt(s); last: transport error");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.2);  // two 0.2 s attempts, not two 0.7 s answers
  EXPECT_EQ(endpoint.requests, 2);
}

TEST(OpenAIClient, MalformedJsonFailsAtOnceWithTheReason) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"choices\": [oops", "application/json");
  });
  openai::OpenAIClient client(endpoint.config());
  UPM_EXPECT_THROW_WITH(client.chat(ask("x")), openai::RemoteError,
                        "malformed JSON in response: \"{\"choices\": [oops\"");
  EXPECT_EQ(endpoint.requests, 1);
}

TEST(OpenAIClient, WrongShapeFailsAtOnceNamingTheField) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"choices": [{"message": {"content": ["not", "text"]}}]})", "application/json");
  });
  openai::OpenAIClient client(endpoint.config());
  UPM_EXPECT_THROW_WITH(client.chat(ask("x")), openai::RemoteError, "/chat/completions: choices[0].message.content[0]");
  EXPECT_EQ(endpoint.requests, 1);
}

TEST(OpenAIClient, EmptyChoicesAreAnError) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"choices": []})", "application/json");
  });
  openai::OpenAIClient client(endpoint.config());
  UPM_EXPECT_THROW_WITH(client.chat(ask("x")), openai::RemoteError, "choices: empty");
}

TEST(OpenAIClient, ClientErrorsAreNotRetried) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error": {"message": "max_tokens is too large"}})", "application/json");
  });
  openai::OpenAIClient client(endpoint.config());
  UPM_EXPECT_THROW_WITH(client.chat(ask("x")), openai::RemoteError, "HTTP 400: max_tokens is too large");
  EXPECT_EQ(endpoint.requests, 1);
}

TEST(OpenAIClient, SendsTheBearerTokenFromTheNamedVariable) {
  FakeEndpoint endpoint([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer s3cret") {
      res.status = 401;
      res.set_content(R"({"error": {"message": "bad key"}})", "application/json");
      return;
    }
    echo(req, res);
  });
  {
    openai::OpenAIClient anonymous(endpoint.config());
    UPM_EXPECT_THROW_WITH(anonymous.chat(ask("x")), openai::RemoteError, "HTTP 401: bad key");
    EXPECT_EQ(endpoint.requests, 1);  // 401 is not retried
  }
  auto config = endpoint.config();
  config.api_key_env = "UPM_SERVE_TEST_KEY";
  ::setenv("UPM_SERVE_TEST_KEY", "s3cret", 1);
  openai::OpenAIClient client(config);
  EXPECT_EQ(client.chat(ask("k")).choices[0].content, "echo: k");
  ::unsetenv("UPM_SERVE_TEST_KEY");
}

TEST(OpenAIClient, MissingKeyVariableIsAnInputErrorNamingIt) {
  openai::OpenAIClientConfig config;
  config.base_url = "http://127.0.0.1:9/v1";
  config.model = "m";
  config.api_key_env = "UPM_SERVE_TEST_UNSET_VARIABLE";
  ::unsetenv("UPM_SERVE_TEST_UNSET_VARIABLE");
  UPM_EXPECT_THROW_WITH(openai::OpenAIClient{config}, InputError,
                        "api_key_env: environment variable UPM_SERVE_TEST_UNSET_VARIABLE is not set");
  config.api_key_env = "";
  config.base_url = "localhost:8000";
  UPM_EXPECT_THROW_WITH(openai::OpenAIClient{config}, InputError, "base_url: no scheme");
}

TEST(OpenAIClient, RefusedConnectionIsRetriedThenReported) {
  const int port = closed_port();
  openai::OpenAIClientConfig config;
  config.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  config.model = "m";
  config.max_retries = 1;
  config.backoff_s = 0.01;
  config.timeout_s = 2;
  openai::OpenAIClient client(config);
  UPM_EXPECT_THROW_WITH(client.chat(ask("x")), openai::RemoteError, "failed after 2 attempt(s); last: transport error");
}

TEST(OpenAIClient, ChatManyKeepsOrderAndBoundsConcurrency) {
  std::atomic<int> in_flight{0}, most{0};
  FakeEndpoint endpoint([&](const httplib::Request& req, httplib::Response& res) {
    const int now = ++in_flight;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {}
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    --in_flight;
    echo(req, res);
  });
  auto config = endpoint.config();
  config.concurrency = 3;
  openai::OpenAIClient client(config);
  std::vector<openai::ChatRequest> requests;
  for (int i = 0; i < 10; ++i) requests.push_back(ask("q" + std::to_string(i)));
  auto answers = client.chat_many(requests);
  ASSERT_EQ(answers.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(answers[size_t(i)].choices[0].content, "echo: q" + std::to_string(i));
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2);  // requests did overlap
}

TEST(OpenAIClient, ChatManyReportsTheFirstFailure) {
  FakeEndpoint endpoint([](const httplib::Request& req, httplib::Response& res) {
    if (req.body.find("bad") != std::string::npos) {
      res.status = 422;
      res.set_content(R"({"error": {"message": "unprocessable"}})", "application/json");
      return;
    }
    echo(req, res);
  });
  openai::OpenAIClient client(endpoint.config());
  UPM_EXPECT_THROW_WITH(client.chat_many({ask("ok"), ask("bad"), ask("ok")}), openai::RemoteError,
                        "HTTP 422: unprocessable");
}

TEST(OpenAIClient, ListsModels) {
  FakeEndpoint endpoint(echo, [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"object": "list", "data": [{"id": "qwen3-8b"}, {"id": "judge"}]})", "application/json");
  });
  openai::OpenAIClient client(endpoint.config());
  EXPECT_EQ(client.models(), (std::vector<std::string>{"qwen3-8b", "judge"}));
}

}  // namespace
}  // namespace upm::test
