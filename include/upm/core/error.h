#pragma once
// Error types and the exit-code contract shared by every executable:
//   0 success; 1 internal failure; 2 bad usage or bad input (also: a job that
//   had input but no record succeeded, and an output locked by another
//   process); 3 the environment failed (disk full, permission denied,
//   read-only file system), with the path named. See docs/design.md#exit-codes.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace upm {

enum ExitCode : int { kExitOk = 0, kExitInternal = 1, kExitBadInput = 2, kExitEnvironment = 3 };

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

// The machine refused (no space, no permission, read-only file system): exit 3.
// The message names the path.
class EnvironmentError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitEnvironment; }
};

// True for errno values that mean the environment, not the program, failed
// (ENOSPC, EDQUOT, EACCES, EPERM, EROFS, EIO, EFBIG, EMFILE, ENFILE).
bool is_environment_errno(int error_number);

// Throws for a failed system call on `path` (errno read now): EnvironmentError
// for is_environment_errno(), InputError for a path that cannot exist (ENOENT,
// ENOTDIR, EISDIR, ENAMETOOLONG, ELOOP), Error otherwise. "WHAT PATH: strerror".
[[noreturn]] void throw_errno(const std::string& what, const std::string& path);

// Maps any exception to its exit code (InputError -> 2, EnvironmentError -> 3, anything else -> 1).
int exit_code_for(const std::exception& e);

}  // namespace upm
