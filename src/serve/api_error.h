#pragma once
// OpenAI-shaped error bodies and the statuses that carry them (private to serve/).

#include <string>

#include <nlohmann/json.hpp>

#include "upm/core/error.h"

namespace upm::serve {

// A request refused with an HTTP status: {"error": {"message", "type", "param", "code"}}.
class ApiError : public InputError {
 public:
  ApiError(int status, std::string type, std::string code, std::string param, const std::string& message)
      : InputError(message), status(status), type(std::move(type)), code(std::move(code)), param(std::move(param)) {}
  int status;
  std::string type;  // invalid_request_error | authentication_error | not_found_error | server_error
  std::string code;
  std::string param;  // the request field at fault ("" = none)
};

nlohmann::json error_body(const std::string& message, const std::string& type, const std::string& code,
                          const std::string& param = "");

// The generic error of a status for replies that carry none yet (404 route, 413 from the HTTP layer).
nlohmann::json default_error_body(int status, int64_t max_body_bytes);

}  // namespace upm::serve
