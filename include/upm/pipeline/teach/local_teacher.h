#pragma once
// A teacher that is a UPM model folder, sampled: the K candidates of a user
// are K samples of the request's prompt (prompt i of the user draws from
// sequence_seed(request seed, i)), so they depend on the user and the round
// only. Merges send the merge prompt, sampled with the merge request's seed.

#include "upm/infer/language_model.h"
#include "upm/pipeline/teach/teacher.h"
#include "upm/pipeline/teach/teacher_config.h"

namespace upm {

class LocalTeacher : public Teacher {
 public:
  explicit LocalTeacher(const LocalTeacherConfig& config);
  // Uses `lm` (which must outlive the teacher) instead of loading config.model.
  LocalTeacher(LanguageModel& lm, const LocalTeacherConfig& config);

  std::vector<std::vector<TeacherOutput>> generate(const std::vector<TeacherRequest>& requests) override;
  std::vector<TeacherOutput> merge(const std::vector<MergeRequest>& requests) override;
  std::string name() const override { return lm_->name; }

 private:
  std::vector<TeacherOutput> sample(const std::string& prompt, int64_t count, uint64_t seed);

  LocalTeacherConfig config_;
  std::unique_ptr<LanguageModel> owned_;
  LanguageModel* lm_ = nullptr;
};

}  // namespace upm
