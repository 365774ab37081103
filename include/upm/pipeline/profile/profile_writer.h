#pragma once
// Prompts -> profile texts, one batch: generation (infer/text_generation.h), then the
// <think> split (profile_text.h). A prompt the model cannot take (beyond its
// context window) fails alone: the batch is retried one prompt at a time so
// that only the offending user gets an error. Shared by the batch profiler and
// the streaming updater.

#include <string>
#include <vector>

#include "upm/infer/generation_config.h"
#include "upm/pipeline/profile/profile_text.h"

namespace upm {

struct LanguageModel;

struct WrittenProfile {
  bool ok = false;
  ProfileText text;     // when ok
  std::string problem;  // when not
};

// One generated text -> a profile, or the problem: a <think> block never
// closed, or nothing after it (an empty profile is a failed user, reported,
// not a success written as "").
WrittenProfile written_profile(const std::string& generated);

std::vector<WrittenProfile> write_profile_batch(LanguageModel& lm, const std::vector<std::string>& prompts,
                                                const GenerationConfig& config);

}  // namespace upm
