#include "upm/openai/base_url.h"

#include <cctype>

#include "upm/core/error.h"

namespace upm::openai {

namespace {

bool valid_host_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'; }

}  // namespace

BaseUrl parse_base_url(const std::string& url, const std::string& field) {
  auto fail = [&](const std::string& problem) -> BaseUrl {
    throw InputError(Location{"", 0, field}, problem + " (expected http[s]://HOST[:PORT][/PATH], got \"" + url + "\")");
  };
  BaseUrl out;
  out.text = url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return fail("no scheme");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return fail("unsupported scheme \"" + scheme + "\"");
  const size_t host_begin = scheme_end + 3;
  size_t path_begin = url.find('/', host_begin);
  if (path_begin == std::string::npos) path_begin = url.size();
  const std::string authority = url.substr(host_begin, path_begin - host_begin);
  // [v6::1]:port is out of scope; a plain host or IPv4 with an optional port.
  const size_t colon = authority.find(':');
  const std::string host = authority.substr(0, colon);
  if (host.empty()) return fail("no host");
  for (char c : host) {
    if (!valid_host_char(c)) return fail("bad character in host");
  }
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5) return fail("bad port");
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail("bad port");
    }
    if (std::stoi(port) < 1 || std::stoi(port) > 65535) return fail("port out of range");
  }
  out.origin = scheme + "://" + authority;
  out.path = url.substr(path_begin);
  if (out.path.find_first_of("?#") != std::string::npos) return fail("query or fragment in base URL");
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  return out;
}

}  // namespace upm::openai
