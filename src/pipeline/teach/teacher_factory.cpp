#include "upm/pipeline/teach/http_teacher.h"
#include "upm/pipeline/teach/local_teacher.h"
#include "upm/pipeline/teach/rule_based_teacher.h"
#include "upm/pipeline/teach/teacher_config.h"

namespace upm {

std::unique_ptr<Teacher> make_teacher(const TeacherConfig& config) {
  if (config.kind == "local") return std::make_unique<LocalTeacher>(config.local);
  if (config.kind == "http") return std::make_unique<HttpTeacher>(config.http);
  return std::make_unique<RuleBasedTeacher>(config.rule);
}

}  // namespace upm
