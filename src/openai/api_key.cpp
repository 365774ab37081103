#include "upm/openai/api_key.h"

#include <cstdlib>

#include "upm/core/error.h"

namespace upm::openai {

std::string api_key_from_env(const std::string& name, const std::string& field) {
  if (name.empty()) return "";
  const char* value = std::getenv(name.c_str());
  if (!value || !*value) {
    throw InputError(Location{"", 0, field},
                     "environment variable " + name + " is not set (it should hold the API key)");
  }
  return value;
}

}  // namespace upm::openai
