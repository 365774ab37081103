#include "upm/pipeline/teach/teacher_guide.h"

#include "upm/core/error.h"
#include "upm/data/prompt_builder.h"

namespace upm {

GuidedTasks split_guide_task(const std::vector<data::BenchmarkTask>& tasks) {
  if (tasks.size() < 2) {
    throw InputError(Location{"", 0, "teacher.guiding_example"},
                     "needs two validation tasks per user (one guides the teacher, the others validate), found " +
                         std::to_string(tasks.size()));
  }
  return {tasks.front(), {tasks.begin() + 1, tasks.end()}};
}

TeacherGuide TeacherGuide::load(const std::string& path, int64_t max_field_chars) {
  auto t = data::PromptTemplate::load(path);
  // "answer" is deliberately not a known placeholder.
  t.check({"prompt", "context", "options"}, {"prompt", "options"});
  return TeacherGuide(std::move(t), max_field_chars);
}

std::string TeacherGuide::render(const std::string& prompt, const data::BenchmarkTask& guide) const {
  return template_.render(
      {{"prompt", prompt}, {"context", guide.context}, {"options", data::option_list(guide, size_t(max_chars_))}});
}

}  // namespace upm
