#pragma once
// upm-serve's HTTP side: an OpenAI-compatible server over one ChatEngine.
//
//   POST /v1/chat/completions   ChatRequest -> ChatResponse (chat_wire.h)
//   GET  /v1/models             {"object": "list", "data": [{"id": ..., "object": "model", ...}]}
//   GET  /health                {"status": "ok"} (never needs the key)
//
// Loopback by default. With api_key_env set, every route but /health needs
// "Authorization: Bearer <the variable's value>" (401 otherwise), checked as
// soon as the headers are in: before the body is read and before the request
// queues for the model. Errors are OpenAI-shaped: {"error": {"message",
// "type", "param", "code"}} with 400 (bad request, limits), 401, 404 (route or
// model), 413 (body too large), 500, and 503 + Retry-After when full.
//
// Exposed to the network, one client must not stall the rest:
//   - a request's headers and body must arrive within request_read_timeout_s
//     of its first byte (a client trickling its headers is cut off), an idle
//     keep-alive connection is closed after keep_alive_timeout_s;
//   - at most max_connections are open; more are answered 503 at once;
//   - completions take the model one at a time in arrival order (a FIFO, not
//     a mutex's free-for-all); when max_queued_requests already wait, 503;
//   - a request may generate at most max_request_tokens in all (n x
//     max_tokens); without max_tokens each choice gets its share;
//   - a request holds the model at most max_request_seconds: decoding stops
//     there and the answer carries what was generated (finish_reason
//     "length"), so a waiting request's delay is bounded too.
// The worker pool is larger than max_connections, so /health is answered
// while the model is busy and slow clients hold their connections.

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
  int64_t max_request_tokens = 16384;  // generated tokens per request, all n choices together
  double max_request_seconds = 60;     // model time per request; decoding stops there (0 = no limit)
  int64_t max_connections = 64;        // open connections; more get 503
  int64_t max_queued_requests = 32;    // completions waiting for the model; more get 503
  double request_read_timeout_s = 10;  // headers + body of one request, from its first byte
  double keep_alive_timeout_s = 5;     // idle time before a keep-alive connection is closed
  int64_t retry_after_s = 1;           // Retry-After of a 503
};

inline void describe(ConfigIO& io, ChatServerConfig& c) {
  io.field("host", c.host);
  io.field("port", c.port).at_least(0);
  io.field("api_key_env", c.api_key_env);
  io.field("max_tokens", c.max_tokens).greater_than(0);
  io.field("max_n", c.max_n).greater_than(0);
  io.field("max_body_bytes", c.max_body_bytes).greater_than(0);
  io.field("max_request_tokens", c.max_request_tokens).greater_than(0);
  io.field("max_request_seconds", c.max_request_seconds).at_least(0.0);
  io.field("max_connections", c.max_connections).greater_than(0);
  io.field("max_queued_requests", c.max_queued_requests).at_least(0);
  io.field("request_read_timeout_s", c.request_read_timeout_s).greater_than(0.0);
  io.field("keep_alive_timeout_s", c.keep_alive_timeout_s).greater_than(0.0);
  io.field("retry_after_s", c.retry_after_s).at_least(0);
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
