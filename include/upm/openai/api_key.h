#pragma once
// API keys come from an environment variable named in config or on the
// command line, never from the config itself (configs get committed and logged).

#include <string>

namespace upm::openai {

// The value of the variable `name` ("" when `name` is ""). An unset or empty
// variable is an InputError naming it, under `field` (e.g. "api_key_env").
std::string api_key_from_env(const std::string& name, const std::string& field);

}  // namespace upm::openai
