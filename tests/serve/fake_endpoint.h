#pragma once
// A hand-written OpenAI-style endpoint on loopback for tests that need a
// server to misbehave on purpose (5xx, malformed bodies, timeouts): the
// client tests and the pipeline's HTTP teacher tests.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <httplib.h>

#include "upm/openai/openai_client.h"

namespace upm::test {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// A hand-written endpoint on 127.0.0.1:<free port>; counts the requests it got.
class FakeEndpoint {
 public:
  explicit FakeEndpoint(Handler chat, Handler models = nullptr) {
    server_.Post("/v1/chat/completions", [this, chat](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      chat(req, res);
    });
    if (models) server_.Get("/v1/models", models);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeEndpoint() {
    server_.stop();
    thread_.join();
  }
  openai::OpenAIClientConfig config() const {
    openai::OpenAIClientConfig c;
    c.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
    c.model = "teacher";
    c.timeout_s = 5;
    c.max_retries = 3;
    c.backoff_s = 0.01;
    return c;
  }
  std::atomic<int> requests{0};

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace upm::test
