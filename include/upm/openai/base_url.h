#pragma once
// An OpenAI-style base URL ("http://127.0.0.1:8000/v1") split into what
// cpp-httplib needs: the origin to connect to and the path every endpoint
// is appended to.

#include <string>

namespace upm::openai {

struct BaseUrl {
  std::string origin;  // "http://127.0.0.1:8000" (scheme, host, optional port)
  std::string path;    // "/v1" ("" for the root); never ends with '/'
  std::string text;    // as given, for messages

  // origin + path + endpoint ("/chat/completions").
  std::string url_of(const std::string& endpoint) const { return origin + path + endpoint; }
};

// http:// or https:// (https through cpp-httplib's OpenSSL build, system CA
// store) + host + optional :port + optional path. InputError naming `field`
// (e.g. "base_url") for anything else.
BaseUrl parse_base_url(const std::string& url, const std::string& field = "base_url");

}  // namespace upm::openai
