#include "upm/pipeline/teach/local_teacher.h"

#include "upm/pipeline/profile/profile_writer.h"

namespace upm {

LocalTeacher::LocalTeacher(const LocalTeacherConfig& config)
    : config_(config),
      owned_(std::make_unique<LanguageModel>(load_language_model(config.model, config.runtime, config.prompt_format))),
      lm_(owned_.get()) {}

LocalTeacher::LocalTeacher(LanguageModel& lm, const LocalTeacherConfig& config) : config_(config), lm_(&lm) {}

std::vector<TeacherOutput> LocalTeacher::sample(const std::string& prompt, int64_t count, uint64_t seed) {
  GenerationConfig generation = config_.generation;
  generation.sampling.seed = seed;
  const std::vector<std::string> prompts(size_t(count), prompt);
  std::vector<TeacherOutput> out;
  for (const WrittenProfile& written : write_profile_batch(*lm_, prompts, generation)) {
    TeacherOutput o;
    o.reasoning = written.text.reasoning;
    o.profile = written.text.profile;
    o.ok = written.ok && !o.profile.empty();
    o.problem = written.ok ? (o.ok ? "" : "the teacher wrote an empty profile") : written.problem;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::vector<TeacherOutput>> LocalTeacher::generate(const std::vector<TeacherRequest>& requests) {
  std::vector<std::vector<TeacherOutput>> out;
  for (const auto& request : requests) out.push_back(sample(request.prompt, request.candidates, request.seed));
  return out;
}

std::vector<TeacherOutput> LocalTeacher::merge(const std::vector<MergeRequest>& requests) {
  std::vector<TeacherOutput> out;
  for (const auto& request : requests) out.push_back(sample(request.prompt, 1, request.seed)[0]);
  return out;
}

}  // namespace upm
