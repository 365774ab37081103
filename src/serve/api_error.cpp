#include "api_error.h"

namespace upm::serve {

nlohmann::json error_body(const std::string& message, const std::string& type, const std::string& code,
                          const std::string& param) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
            {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
}

nlohmann::json default_error_body(int status, int64_t max_body_bytes) {
  switch (status) {
    case 404:
      return error_body("no such route (POST /v1/chat/completions, GET /v1/models, GET /health)", "not_found_error",
                        "not_found");
    case 405: return error_body("method not allowed", "invalid_request_error", "method_not_allowed");
    case 413:
      return error_body("request body exceeds " + std::to_string(max_body_bytes) + " bytes", "invalid_request_error",
                        "request_too_large");
    default:
      if (status >= 500) return error_body("internal server error", "server_error", "internal_error");
      return error_body("request failed with status " + std::to_string(status), "invalid_request_error", "");
  }
}

}  // namespace upm::serve
