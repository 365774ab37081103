#pragma once
// Shared by the serve tests: the engine serving the pipeline tests' tiny
// model folder (a random-init Qwen3-architecture model saved by the model
// layer + the committed tiny byte-level BPE tokenizer, so the Qwen3 chat
// template's <|im_start|>/<|im_end|> are single tokens), and a ChatServer
// running on a loopback port for the length of a test.

#include <memory>
#include <string>
#include <thread>

#include "pipeline/pipeline_test_util.h"
#include "upm/serve/chat_engine.h"
#include "upm/serve/chat_server.h"
#include "upm/openai/openai_client.h"

namespace upm::test {

inline serve::ChatEngine& serve_engine() {
  static serve::ChatEngine engine(serve::load_chat_model(tiny_model_dir(), ModelRuntime{}));
  return engine;
}

// A ChatServer on 127.0.0.1:<free port>, serving in a background thread until destroyed.
class RunningServer {
 public:
  explicit RunningServer(serve::ChatServerConfig config = {}, serve::ChatEngine& engine = serve_engine()) {
    config.port = 0;
    server_ = std::make_unique<serve::ChatServer>(engine, config);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string base_url() const { return server_->base_url(); }

  openai::OpenAIClientConfig client_config() const {
    openai::OpenAIClientConfig c;
    c.base_url = base_url();
    c.model = serve_engine().model_id();
    c.timeout_s = 30;
    c.max_retries = 0;
    return c;
  }

 private:
  std::unique_ptr<serve::ChatServer> server_;
  std::thread thread_;
  int port_ = 0;
};

inline openai::ChatRequest user_request(const std::string& text, int64_t max_tokens = 8) {
  openai::ChatRequest r;
  r.messages = {{"system", "You judge."}, {"user", text}};
  r.max_tokens = max_tokens;
  r.temperature = 0.0;
  return r;
}

}  // namespace upm::test
