#pragma once
// One HTTP exchange with an OpenAI-compatible endpoint, classified for the
// client's retry loop (private to openai/).

#include <string>

#include "upm/openai/base_url.h"

namespace upm::openai {

struct HttpAttempt {
  enum class Outcome {
    ok,         // 2xx: `body` holds the response
    retryable,  // transport failure, timeout, 408, 409, 429, 5xx (the statuses OpenAI's SDKs retry)
    fatal,      // any other status: retrying cannot help
  };
  Outcome outcome = Outcome::fatal;
  int status = 0;  // 0 when no response arrived
  std::string body;
  std::string reason;        // why it failed, for the error message
  double retry_after_s = 0;  // the server's Retry-After (seconds), 0 when absent
};

struct HttpOptions {
  double timeout_s = 120.0;  // connect, and each read / write, of this attempt
  std::string api_key;       // bearer token ("" = none)
};

// POST with a JSON body when `json_body` is non-null, else GET.
HttpAttempt http_exchange(const BaseUrl& base, const std::string& endpoint, const std::string* json_body,
                          const HttpOptions& options);

}  // namespace upm::openai
