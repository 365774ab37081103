#include "completion_route.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "api_error.h"
#include "upm/serve/chat_engine.h"
#include "upm/core/json_limits.h"

namespace upm::serve {

namespace {

const char* kInvalid = "invalid_request_error";

bool has_value(const nlohmann::json& json, const char* key) { return json.contains(key) && !json[key].is_null(); }

openai::ChatRequest parse_request(const std::string& body, const ChatServerConfig& limits, const ChatEngine& engine) {
  std::string error, field;
  nlohmann::json json = parse_json_bounded(body, max_json_depth(), &error, &field);
  if (json.is_discarded()) {
    throw ApiError(
        400, kInvalid, "invalid_json", field,
        "request body: " + (field.empty() ? "" : field + ": ") + (error == "invalid JSON" ? "not valid JSON" : error));
  }
  openai::ChatRequest request;
  try {
    request = openai::chat_request_from_json(json, "request body");
  } catch (const InputError& e) {
    const std::string field = e.where().field;
    throw ApiError(400, kInvalid, "invalid_value", field.substr(0, field.find_first_of(".[")), e.what());
  }
  // No max_tokens: as much as the limit and the context window allow (OpenAI's and vLLM's reading),
  // within each choice's share of the request's token budget.
  if (!has_value(json, "max_tokens") && !has_value(json, "max_completion_tokens")) {
    const int64_t room = engine.context_window() - int64_t(engine.prompt_ids(request).size());
    const int64_t share = limits.max_request_tokens / std::max<int64_t>(1, request.n);
    request.max_tokens = std::max<int64_t>(1, std::min({limits.max_tokens, room, share}));
  }
  return request;
}

void check_limits(const openai::ChatRequest& request, const ChatServerConfig& limits, const ChatEngine& engine) {
  if (request.max_tokens > limits.max_tokens) {
    throw ApiError(400, kInvalid, "invalid_value", "max_tokens",
                   "request body: max_tokens: " + std::to_string(request.max_tokens) +
                       " exceeds this server's limit of " + std::to_string(limits.max_tokens));
  }
  if (request.n > limits.max_n) {
    throw ApiError(400, kInvalid, "invalid_value", "n",
                   "request body: n: " + std::to_string(request.n) + " exceeds this server's limit of " +
                       std::to_string(limits.max_n));
  }
  if (request.n * request.max_tokens > limits.max_request_tokens) {
    throw ApiError(400, kInvalid, "invalid_value", "max_tokens",
                   "request body: n x max_tokens = " + std::to_string(request.n) + " x " +
                       std::to_string(request.max_tokens) + " exceeds this server's budget of " +
                       std::to_string(limits.max_request_tokens) + " generated tokens per request");
  }
  if (!request.model.empty() && request.model != engine.model_id()) {
    throw ApiError(404, kInvalid, "model_not_found", "model",
                   "request body: model: \"" + request.model + "\" is not served here (this server serves \"" +
                       engine.model_id() + "\")");
  }
}

std::string next_completion_id() {
  static std::atomic<uint64_t> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  char id[64];
  std::snprintf(id, sizeof id, "chatcmpl-%llx%llx", static_cast<unsigned long long>(now),
                static_cast<unsigned long long>(counter++));
  return id;
}

}  // namespace

nlohmann::json complete_chat_body(ChatEngine& engine, const ChatServerConfig& limits, const std::string& body) {
  if (int64_t(body.size()) > limits.max_body_bytes) {
    throw ApiError(413, kInvalid, "request_too_large", "",
                   "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  openai::ChatRequest request = parse_request(body, limits, engine);
  check_limits(request, limits, engine);
  const auto start = std::chrono::steady_clock::now();
  openai::ChatResponse response;
  try {
    response = engine.complete(request, limits.max_request_seconds);
  } catch (const ApiError&) {
    throw;
  } catch (const InputError& e) {
    // The prompt does not fit the context window.
    throw ApiError(400, kInvalid, "context_length_exceeded", "messages", e.what());
  }
  response.id = next_completion_id();
  response.created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("chat completion: {} prompt + {} completion tokens, n={}, {:.2f} s", response.prompt_tokens,
               response.completion_tokens, request.n, seconds);
  return openai::to_json(response);
}

nlohmann::json models_body(const ChatEngine& engine) {
  return {{"object", "list"},
          {"data", nlohmann::json::array(
                       {{{"id", engine.model_id()}, {"object", "model"}, {"created", 0}, {"owned_by", "upm"}}})}};
}

}  // namespace upm::serve
