#pragma once
// upm-serve's HTTP side: an OpenAI-compatible server over one ChatEngine.
//
//   POST /v1/chat/completions   ChatRequest -> ChatResponse (chat_wire.h)
//   GET  /v1/models             {"object": "list", "data": [{"id": ..., "object": "model", ...}]}
//   GET  /health                {"status": "ok"} (never needs the key)
//
// Loopback by default. With api_key_env set, every route but /health needs
// "Authorization: Bearer <the variable's value>" (401 otherwise). Errors are
// OpenAI-shaped: {"error": {"message", "type", "param", "code"}} with 400
// (bad request, limits), 401, 404 (route or model), 413 (body too large),
// 500. Requests are accepted concurrently but the model serves one at a time
// (ChatEngine's mutex).

#include <cstdint>
#include <memory>
#include <string>

#include "upm/core/config.h"

namespace upm::serve {

class ChatEngine;

struct ChatServerConfig {
  std::string host = "127.0.0.1";  // loopback: reachable from this machine only
  int64_t port = 8000;             // 0 = any free port (see ChatServer::bind)
  std::string api_key_env;         // variable holding the bearer token ("" = no auth)
  int64_t max_tokens = 4096;       // the largest max_tokens a request may ask
  int64_t max_n = 16;              // the most choices per request
  int64_t max_body_bytes = 1 << 20;
};

inline void describe(ConfigIO& io, ChatServerConfig& c) {
  io.field("host", c.host);
  io.field("port", c.port).at_least(0);
  io.field("api_key_env", c.api_key_env);
  io.field("max_tokens", c.max_tokens).greater_than(0);
  io.field("max_n", c.max_n).greater_than(0);
  io.field("max_body_bytes", c.max_body_bytes).greater_than(0);
}

class ChatServer {
 public:
  // Reads the API key now: a named variable that is unset is an InputError naming it.
  ChatServer(ChatEngine& engine, ChatServerConfig config);
  ~ChatServer();

  // Binds host:port and starts listening; returns the bound port (the
  // chosen one for port 0). InputError if the address cannot be bound.
  int bind();
  // Serves until stop() (call after bind). Returns when the server has stopped.
  void serve();
  // From any thread: ends serve().
  void stop();

  // "http://HOST:PORT/v1": what an OpenAIClient's base_url should be.
  std::string base_url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace upm::serve
