#include "upm/core/error.h"

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

int exit_code_for(const std::exception& e) {
  if (auto* upm_error = dynamic_cast<const Error*>(&e)) return upm_error->exit_code();
  return kExitInternal;
}

}  // namespace upm
