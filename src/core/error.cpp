#include "upm/core/error.h"

#include <cerrno>
#include <cstring>
#include <system_error>

namespace upm {

std::string format_location(const Location& where, const std::string& problem) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) out += ":" + std::to_string(where.line);
    out += ": ";
  } else if (where.line > 0) {
    out += "line " + std::to_string(where.line) + ": ";
  }
  if (!where.field.empty()) out += where.field + ": ";
  out += problem;
  return out;
}

bool is_environment_errno(int error_number) {
  switch (error_number) {
    case ENOSPC:
    case EDQUOT:
    case EACCES:
    case EPERM:
    case EROFS:
    case EIO:
    case EFBIG:
    case EMFILE:
    case ENFILE: return true;
    default: return false;
  }
}

void throw_errno(const std::string& what, const std::string& path) {
  const int error_number = errno;
  const std::string message = what + " " + path + ": " + std::strerror(error_number);
  if (is_environment_errno(error_number)) throw EnvironmentError(message);
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
    case ELOOP: throw InputError(message);
    default: throw Error(message);
  }
}

int exit_code_for(const std::exception& e) {
  if (auto* upm_error = dynamic_cast<const Error*>(&e)) return upm_error->exit_code();
  // std::filesystem and other std::system_error users (their messages name the path).
  if (auto* system = dynamic_cast<const std::system_error*>(&e)) {
    const auto& category = system->code().category();
    if ((category == std::generic_category() || category == std::system_category()) &&
        is_environment_errno(system->code().value())) {
      return kExitEnvironment;
    }
  }
  return kExitInternal;
}

}  // namespace upm
