#pragma once
// ISO 8601 timestamps for converted and synthetic logs.

#include <cstdint>
#include <string>

namespace upm::data {

// Unix seconds -> "YYYY-MM-DDTHH:MM:SSZ" (UTC, proleptic Gregorian).
std::string iso8601_utc(int64_t unix_seconds);

}  // namespace upm::data
