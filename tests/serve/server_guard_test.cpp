// The server under hostile or unlucky clients: headers trickled by many slow
// connections do not stall /health and are cut off at the request deadline;
// connections beyond the cap get 503 + Retry-After at once; a request's
// generated tokens are capped across its n choices and its time holding the
// model by a deadline; a deeply nested body is a 400 (and a deeply nested
// answer a RemoteError for the client), not a crash.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <httplib.h>

#include "fake_endpoint.h"
#include "serve_test_util.h"

namespace upm::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends a request line and then one header line every `every_s`, for as long
// as the server reads; returns how long until the server closed or answered.
double trickle_headers(int port, double every_s, double give_up_s) {
  const int fd = connect_to(port);
  if (fd < 0) return -1;
  const auto start = Clock::now();
  std::string line = "GET /v1/models HTTP/1.1\r\n";
  while (seconds_since(start) < give_up_s) {
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) < 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(every_s * 1000)) > 0) break;  // an answer (or the close) came
    line = "X-Slow: " + std::to_string(seconds_since(start)) + "\r\n";
  }
  const double elapsed = seconds_since(start);
  ::close(fd);
  return elapsed;
}

TEST(ServerGuard, HealthAnswersWithinASecondWhileSixteenClientsTrickleHeaders) {
  serve::ChatServerConfig config;
  config.request_read_timeout_s = 3;
  RunningServer server(config);
  std::vector<double> cut_after(16, 0.0);
  std::vector<std::thread> slow;
  for (int i = 0; i < 16; ++i) {
    slow.emplace_back([&, i] { cut_after[i] = trickle_headers(server.port(), 0.5, 20.0); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // all 16 are mid-headers
  httplib::Client http("127.0.0.1", server.port());
  http.set_read_timeout(5, 0);
  for (int probe = 0; probe < 3; ++probe) {
    const auto start = Clock::now();
    auto health = http.Get("/health");
    const double took = seconds_since(start);
    ASSERT_TRUE(health) << "no answer";
    EXPECT_EQ(health->status, 200);
    EXPECT_LT(took, 1.0) << "/health took " << took << " s";
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  for (auto& t : slow) t.join();
  for (double s : cut_after) {
    EXPECT_GT(s, 2.5) << "cut before the request deadline";
    EXPECT_LT(s, 6.0) << "a trickling client held its connection past the 3 s request deadline";
  }
}

TEST(ServerGuard, ConnectionsBeyondTheCapGet503WithRetryAfter) {
  serve::ChatServerConfig config;
  config.max_connections = 4;
  config.retry_after_s = 2;
  config.request_read_timeout_s = 5;
  RunningServer server(config);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connect_to(server.port()));
    ASSERT_GE(idle.back(), 0);
    ASSERT_EQ(::send(idle.back(), "G", 1, MSG_NOSIGNAL), 1);  // a request begun, never finished
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  httplib::Client http("127.0.0.1", server.port());
  const auto start = Clock::now();
  auto refused = http.Get("/health");
  ASSERT_TRUE(refused);
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "2");
  const json body = json::parse(refused->body);
  EXPECT_EQ(body["error"]["code"], "server_busy");
  for (int fd : idle) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto again = http.Get("/health");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << "slots come back when connections close";
}

std::pair<int, json> post(int port, const std::string& body) {
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(60, 0);
  auto res = http.Post("/v1/chat/completions", body, "application/json");
  if (!res) return {0, json()};
  return {res->status, json::parse(res->body, nullptr, false)};
}

TEST(ServerGuard, GeneratedTokensAreBudgetedAcrossChoices) {
  serve::ChatServerConfig config;
  config.max_request_tokens = 12;
  RunningServer server(config);
  const std::string messages = R"({"messages": [{"role": "user", "content": "hi"}], "temperature": 1, "seed": 3)";
  auto over = post(server.port(), messages + R"(, "n": 4, "max_tokens": 4})");
  EXPECT_EQ(over.first, 400);
  EXPECT_EQ(over.second["error"]["param"], "max_tokens");
  EXPECT_NE(over.second["error"]["message"].get<std::string>().find(
                "n x max_tokens = 4 x 4 exceeds this server's budget of 12"),
            std::string::npos)
      << over.second.dump();
  // Without max_tokens each of the n choices gets its share of the budget.
  auto shared = post(server.port(), messages + R"(, "n": 4})");
  ASSERT_EQ(shared.first, 200) << shared.second.dump();
  EXPECT_LE(shared.second["usage"]["completion_tokens"].get<int64_t>(), 12);
  EXPECT_EQ(shared.second["choices"].size(), 4u);
}

// A request asking for far more tokens than its time budget allows is cut at
// the deadline with what it has; /health is answered meanwhile, and a small
// completion queued behind it waits no longer than the budget.
TEST(ServerGuard, ARequestIsCutAtItsTimeBudgetAndTheNextOneIsServedPromptly) {
  serve::ChatServerConfig config;
  config.max_tokens = 4000;
  config.max_n = 64;
  config.max_request_tokens = 64 * 4000;
  config.max_request_seconds = 0.25;  // uncut, the 64 seeded choices take over 10 s
  const double slack = 2.0;           // a loaded machine, one decode step, the response's JSON
  RunningServer server(config);
  const std::string messages = R"({"messages": [{"role": "user", "content": "hi"}], "temperature": 1, "seed": 3)";
  std::pair<int, json> big;
  double big_took = 0;
  std::thread long_request([&] {
    const auto start = Clock::now();
    big = post(server.port(), messages + R"(, "n": 64, "max_tokens": 4000, "logprobs": true})");
    big_took = seconds_since(start);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the long request holds the model
  httplib::Client http("127.0.0.1", server.port());
  http.set_read_timeout(5, 0);
  auto start = Clock::now();
  auto health = http.Get("/health");
  const double health_took = seconds_since(start);
  start = Clock::now();
  auto small = post(server.port(), messages + R"(, "max_tokens": 2})");
  const double small_took = seconds_since(start);
  long_request.join();

  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(health_took, 1.0) << "/health waited for the model";
  EXPECT_EQ(small.first, 200) << small.second.dump();
  EXPECT_LT(small_took, config.max_request_seconds + slack) << "the small request waited past the budget";
  ASSERT_EQ(big.first, 200) << big.second.dump().substr(0, 500);
  EXPECT_LT(big_took, config.max_request_seconds + slack);
  ASSERT_EQ(big.second["choices"].size(), 64u);
  size_t cut = 0;
  std::string ends;
  for (const auto& choice : big.second["choices"]) {
    const size_t tokens = choice["logprobs"]["content"].size();
    EXPECT_GT(tokens, 0u);
    if (choice["finish_reason"] == "length" && tokens < 4000) ++cut;
    ends += " " + std::to_string(tokens) + " " + choice["finish_reason"].get<std::string>() + ";";
  }
  EXPECT_GT(cut, 0u) << "no choice was cut at the deadline (tokens, finish_reason:" << ends << " in " << big_took
                     << " s)";
  EXPECT_LT(big.second["usage"]["completion_tokens"].get<int64_t>(), 64 * 4000);
}

TEST(ServerGuard, ADeeplyNestedBodyIsA400) {
  RunningServer server;
  const std::string deep =
      R"({"messages": [{"role": "user", "content": )" + std::string(50000, '[') + std::string(50000, ']') + "}]}";
  auto got = post(server.port(), deep);
  EXPECT_EQ(got.first, 400);
  EXPECT_EQ(got.second["error"]["code"], "invalid_json");
  EXPECT_NE(got.second["error"]["message"].get<std::string>().find("messages[0].content: nested deeper than 64 levels"),
            std::string::npos)
      << got.second.dump().substr(0, 500);
  EXPECT_EQ(post(server.port(), R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})").first, 200);
}

TEST(ServerGuard, ADeeplyNestedAnswerIsARemoteErrorForTheClient) {
  FakeEndpoint endpoint([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"choices": )" + std::string(100000, '[') + std::string(100000, ']') + "}", "application/json");
  });
  openai::OpenAIClient client(endpoint.config());
  UPM_EXPECT_THROW_WITH(client.chat(user_request("x")), openai::RemoteError,
                        "/chat/completions: response choices: nested deeper than 64 levels");
}

}  // namespace
}  // namespace upm::test
