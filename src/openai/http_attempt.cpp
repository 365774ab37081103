#include "http_attempt.h"

#include <algorithm>
#include <chrono>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include "upm/core/json_limits.h"

namespace upm::openai {

namespace {

// OpenAI error bodies say {"error": {"message": ...}}; others are quoted raw (shortened).
std::string error_text(const std::string& body) {
  auto parsed = parse_json_bounded(body, max_json_depth(), nullptr);
  if (parsed.is_object() && parsed.contains("error")) {
    const auto& e = parsed["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  return body.size() > 300 ? body.substr(0, 300) + "..." : body;
}

// Retry-After in seconds (the HTTP-date form is ignored), capped so a
// confused server cannot park a job for hours.
double retry_after_seconds(const httplib::Response& res) {
  const std::string value = res.get_header_value("Retry-After");
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 6) return 0;
  return std::min(60.0, double(std::stol(value)));
}

}  // namespace

HttpAttempt http_exchange(const BaseUrl& base, const std::string& endpoint, const std::string* json_body,
                          const HttpOptions& options) {
  httplib::Client client(base.origin);
  const auto timeout = std::chrono::duration<double>(options.timeout_s);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  if (!options.api_key.empty()) client.set_bearer_token_auth(options.api_key);
  const std::string path = base.path + endpoint;
  httplib::Result result = json_body ? client.Post(path, *json_body, "application/json") : client.Get(path);

  HttpAttempt out;
  if (!result) {
    out.outcome = HttpAttempt::Outcome::retryable;
    out.reason = "transport error: " + httplib::to_string(result.error());
    return out;
  }
  out.status = result->status;
  out.body = result->body;
  if (out.status >= 200 && out.status < 300) {
    out.outcome = HttpAttempt::Outcome::ok;
    return out;
  }
  out.reason = "HTTP " + std::to_string(out.status) + ": " + error_text(out.body);
  const bool retry = out.status == 408 || out.status == 409 || out.status == 429 || out.status >= 500;
  out.retry_after_s = retry_after_seconds(*result);
  out.outcome = retry ? HttpAttempt::Outcome::retryable : HttpAttempt::Outcome::fatal;
  return out;
}

}  // namespace upm::openai
