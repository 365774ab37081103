#include "upm/serve/chat_server.h"

#include <condition_variable>
#include <mutex>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "api_error.h"
#include "completion_route.h"
#include "guarded_http_server.h"
#include "upm/openai/api_key.h"
#include "upm/serve/chat_engine.h"

namespace upm::serve {

namespace {

const auto kReplace = nlohmann::json::error_handler_t::replace;

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, kReplace), "application/json");
}

// Comparison time independent of where the strings differ (the length may leak; the content does not).
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

ConnectionLimits connection_limits(const ChatServerConfig& c) {
  ConnectionLimits limits;
  limits.max_connections = c.max_connections;
  limits.request_read_timeout_s = c.request_read_timeout_s;
  limits.keep_alive_timeout_s = c.keep_alive_timeout_s;
  limits.retry_after_s = c.retry_after_s;
  return limits;
}

// The model's turn, in arrival order: a ticket per request, served in
// ticket order (std::mutex lets a newcomer overtake a request that has
// waited a minute). At most `max_waiting` wait behind the one running.
class FairQueue {
 public:
  explicit FairQueue(int64_t max_waiting) : max_waiting_(max_waiting) {}

  // False at once when the queue is full; else waits for this caller's turn.
  bool enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (int64_t(next_ticket_ - serving_) > max_waiting_) return false;
    const uint64_t ticket = next_ticket_++;
    turn_.wait(lock, [&] { return serving_ == ticket; });
    return true;
  }
  void leave() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++serving_;
    }
    turn_.notify_all();
  }

 private:
  int64_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable turn_;
  uint64_t next_ticket_ = 0, serving_ = 0;
};

}  // namespace

struct ChatServer::Impl {
  ChatEngine& engine;
  ChatServerConfig config;
  std::string api_key;
  GuardedHttpServer http;
  FairQueue model_queue;
  int port = -1;

  Impl(ChatEngine& e, ChatServerConfig c)
      : engine(e),
        config(std::move(c)),
        api_key(openai::api_key_from_env(config.api_key_env, "api_key_env")),
        http(connection_limits(config)),
        model_queue(config.max_queued_requests) {}

  nlohmann::json complete(const std::string& body) {
    if (!model_queue.enter()) {
      throw ApiError(503, "server_error", "server_busy", "",
                     "server busy: " + std::to_string(config.max_queued_requests) +
                         " requests already wait for the model; retry after " + std::to_string(config.retry_after_s) +
                         " s");
    }
    struct Leave {
      FairQueue& queue;
      ~Leave() { queue.leave(); }
    } leave{model_queue};
    return complete_chat_body(engine, config, body);
  }

  bool authorized(const httplib::Request& req) const {
    if (api_key.empty() || req.path == "/health") return true;
    return same_secret(req.get_header_value("Authorization"), "Bearer " + api_key);
  }

  void routes() {
    http.set_payload_max_length(size_t(config.max_body_bytes));
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
      send_json(res, 401,
                error_body("missing or wrong API key (send Authorization: Bearer <key>)", "authentication_error",
                           "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      try {
        send_json(res, 200, complete(req.body));
      } catch (const ApiError& e) {
        spdlog::warn("chat completion refused ({}): {}", e.status, e.what());
        send_json(res, e.status, error_body(e.what(), e.type, e.code, e.param));
        if (e.status == 503) res.set_header("Retry-After", std::to_string(config.retry_after_s));
      } catch (const InputError& e) {
        // Anything else the request's content caused (e.g. a prompt the template or tokenizer refuses).
        spdlog::warn("chat completion refused (400): {}", e.what());
        send_json(res, 400, error_body(e.what(), "invalid_request_error", "invalid_value"));
      }
    });
    http.Get("/v1/models",
             [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models_body(engine)); });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, {{"status", "ok"}});
    });
    // Statuses the HTTP layer sets itself (404, 413) get an OpenAI-shaped body too.
    http.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) send_json(res, res.status, default_error_body(res.status, config.max_body_bytes));
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {}
      spdlog::error("chat server: {}", what);
      send_json(res, 500, error_body("internal server error: " + what, "server_error", "internal_error"));
    });
  }
};

ChatServer::ChatServer(ChatEngine& engine, ChatServerConfig config)
    : impl_(std::make_unique<Impl>(engine, std::move(config))) {
  impl_->routes();
}

ChatServer::~ChatServer() { stop(); }

int ChatServer::bind() {
  const auto& c = impl_->config;
  impl_->port = c.port == 0 ? impl_->http.bind_to_any_port(c.host)
                            : (impl_->http.bind_to_port(c.host, int(c.port)) ? int(c.port) : -1);
  if (impl_->port <= 0) {
    throw InputError(Location{"", 0, "--port"}, "cannot listen on " + c.host + ":" + std::to_string(c.port));
  }
  return impl_->port;
}

void ChatServer::serve() { impl_->http.listen_after_bind(); }

void ChatServer::stop() { impl_->http.stop(); }

std::string ChatServer::base_url() const {
  return "http://" + impl_->config.host + ":" + std::to_string(impl_->port) + "/v1";
}

}  // namespace upm::serve
