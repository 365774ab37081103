#include "upm/pipeline/http_teacher.h"
#include "upm/pipeline/local_teacher.h"
#include "upm/pipeline/rule_based_teacher.h"
#include "upm/pipeline/teacher_config.h"

namespace upm {

std::unique_ptr<Teacher> make_teacher(const TeacherConfig& config) {
  if (config.kind == "local") return std::make_unique<LocalTeacher>(config.local);
  if (config.kind == "http") return std::make_unique<HttpTeacher>(config.http);
  return std::make_unique<RuleBasedTeacher>(config.rule);
}

}  // namespace upm
