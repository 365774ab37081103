#pragma once
// Error types and the exit-code contract shared by every executable:
//   0 success, 2 bad usage or bad input, 1 internal failure.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace upm {

enum ExitCode : int { kExitOk = 0, kExitInternal = 1, kExitBadInput = 2 };

// Where a problem was found in an input: "file:line: field: problem".
// Any part may be empty (line 0 = unknown) and is then left out.
struct Location {
  std::string file;
  std::size_t line = 0;
  std::string field;
};

std::string format_location(const Location& where, const std::string& problem);

// Base of UPM's own errors; an Error that is not an InputError is an internal
// failure (exit 1).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const { return kExitInternal; }
};

// The user's input (a file, a flag, a config value) is wrong: exit 2.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(message) {}
  InputError(const Location& where, const std::string& problem)
      : Error(format_location(where, problem)), where_(where) {}
  int exit_code() const override { return kExitBadInput; }
  const Location& where() const { return where_; }

 private:
  Location where_;
};

// Maps any exception to its exit code (InputError -> 2, anything else -> 1).
int exit_code_for(const std::exception& e);

}  // namespace upm
