#pragma once
// What a profile writer generated, split into its reasoning and the profile.
// The prompts ask for "<think>reasoning</think> profile" (AlignXplore+ format);
// a model may also skip the block, or open it and run out of tokens inside it.

#include <string>

namespace upm {

struct ProfileText {
  std::string profile;      // the text after </think> (or the whole text), trimmed
  std::string reasoning;    // inside <think>...</think>, trimmed; "" without a block
  bool well_formed = true;  // false: <think> opened but never closed (profile then empty)
};

ProfileText split_profile_text(const std::string& generated);

// `s` without leading and trailing `chars` (whitespace by default).
std::string trim_text(const std::string& s, const char* chars = " \t\r\n");

}  // namespace upm
