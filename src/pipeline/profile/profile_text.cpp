#include "upm/pipeline/profile/profile_text.h"

namespace upm {

namespace {

constexpr const char* kOpen = "<think>";
constexpr const char* kClose = "</think>";

}  // namespace

std::string trim_text(const std::string& s, const char* chars) {
  const size_t first = s.find_first_not_of(chars);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

ProfileText split_profile_text(const std::string& generated) {
  ProfileText out;
  const std::string text = trim_text(generated);
  const size_t close = text.find(kClose);
  const bool opens = text.rfind(kOpen, 0) == 0;
  if (close == std::string::npos) {
    if (opens) {
      out.reasoning = trim_text(text.substr(std::string(kOpen).size()));
      out.well_formed = false;
    } else {
      out.profile = text;
    }
    return out;
  }
  // A chat template may put "<think>" into the prompt, so the output can
  // start inside the block: everything before </think> is reasoning.
  const size_t start = opens ? std::string(kOpen).size() : 0;
  out.reasoning = trim_text(text.substr(start, close - start));
  out.profile = trim_text(text.substr(close + std::string(kClose).size()));
  return out;
}

}  // namespace upm
