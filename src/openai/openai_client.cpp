#include "upm/openai/openai_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_attempt.h"
#include "upm/openai/api_key.h"
#include "upm/openai/base_url.h"
#include "upm/core/json_limits.h"

namespace upm::openai {

struct OpenAIClient::Impl {
  BaseUrl base;
  HttpOptions http;
};

namespace {

// The body of a successful exchange, retrying what may succeed later with
// delays backoff_s, 2*backoff_s, 4*backoff_s, ... (or the server's
// Retry-After when longer).
std::string exchange_with_retries(const OpenAIClientConfig& config, const BaseUrl& base, const HttpOptions& http,
                                  const std::string& endpoint, const std::string* body) {
  const std::string what = std::string(body ? "POST " : "GET ") + base.url_of(endpoint);
  const int64_t attempts = 1 + config.max_retries;
  std::string last_reason;
  double retry_after_s = 0;
  for (int64_t a = 0; a < attempts; ++a) {
    if (a > 0) {
      const double backoff = config.backoff_s * std::pow(2.0, double(a - 1));
      std::this_thread::sleep_for(std::chrono::duration<double>(std::max(backoff, retry_after_s)));
    }
    HttpAttempt attempt = http_exchange(base, endpoint, body, http);
    if (attempt.outcome == HttpAttempt::Outcome::ok) return attempt.body;
    if (attempt.outcome == HttpAttempt::Outcome::fatal) throw RemoteError(what + ": " + attempt.reason);
    last_reason = attempt.reason;
    retry_after_s = attempt.retry_after_s;
  }
  throw RemoteError(what + ": failed after " + std::to_string(attempts) + " attempt(s); last: " + last_reason);
}

// A 2xx body that is not what the endpoint promises is the server's fault, not the caller's input.
nlohmann::json parse_body(const std::string& body, const std::string& source) {
  if (auto deep = check_json_depth(body, max_json_depth())) {
    throw RemoteError(source + ": response " + (deep->field.empty() ? "" : deep->field + ": ") + deep->problem);
  }
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    const std::string start = body.size() > 200 ? body.substr(0, 200) + "..." : body;
    throw RemoteError(source + ": malformed JSON in response: \"" + start + "\"");
  }
  return parsed;
}

}  // namespace

OpenAIClient::OpenAIClient(OpenAIClientConfig config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  impl_->base = parse_base_url(config_.base_url);
  impl_->http.timeout_s = config_.timeout_s;
  impl_->http.api_key = api_key_from_env(config_.api_key_env, "api_key_env");
}

OpenAIClient::~OpenAIClient() = default;

ChatResponse OpenAIClient::chat(const ChatRequest& request) {
  ChatRequest sent = request;
  if (sent.model.empty()) sent.model = config_.model;
  const std::string body = to_json(sent).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string endpoint = "/chat/completions";
  const std::string source = "response from " + impl_->base.url_of(endpoint);
  const std::string answer = exchange_with_retries(config_, impl_->base, impl_->http, endpoint, &body);
  ChatResponse response;
  try {
    response = chat_response_from_json(parse_body(answer, source), source);
  } catch (const InputError& e) {
    throw RemoteError(e.what());
  }
  if (response.choices.empty()) throw RemoteError(source + ": choices: empty");
  return response;
}

std::vector<ChatResponse> OpenAIClient::chat_many(const std::vector<ChatRequest>& requests) {
  std::vector<ChatResponse> out(requests.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  // Workers take the next request until none is left; after a failure they
  // finish what is in flight and take no more.
  auto worker = [&] {
    while (!failed) {
      const size_t i = next++;
      if (i >= requests.size()) return;
      try {
        out[i] = chat(requests[i]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  const size_t workers = std::min<size_t>(size_t(config_.concurrency), requests.size());
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
  return out;
}

std::vector<std::string> OpenAIClient::models() {
  const std::string endpoint = "/models";
  const std::string source = "response from " + impl_->base.url_of(endpoint);
  nlohmann::json body = parse_body(exchange_with_retries(config_, impl_->base, impl_->http, endpoint, nullptr), source);
  std::vector<std::string> ids;
  if (!body.is_object() || !body.contains("data") || !body["data"].is_array()) {
    throw RemoteError(source + ": data: expected an array of models");
  }
  for (size_t i = 0; i < body["data"].size(); ++i) {
    const auto& m = body["data"][i];
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) {
      throw RemoteError(source + ": data[" + std::to_string(i) + "].id: expected a string");
    }
    ids.push_back(m["id"].get<std::string>());
  }
  return ids;
}

}  // namespace upm::openai
