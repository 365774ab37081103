#include "upm/pipeline/teach/teacher.h"

#include "upm/pipeline/profile/profile_text.h"

namespace upm {

TeacherOutput teacher_output_from_text(const std::string& generated) {
  const ProfileText text = split_profile_text(generated);
  TeacherOutput out;
  out.reasoning = text.reasoning;
  out.profile = text.profile;
  if (!text.well_formed) {
    out.problem = "the teacher did not close its <think> block";
  } else if (text.profile.empty()) {
    out.problem = "the teacher wrote an empty profile";
  } else {
    out.ok = true;
  }
  return out;
}

}  // namespace upm
