#pragma once
// The guiding example an LM teacher may be shown (teacher.guiding_example):
// one of the user's later tasks, its context and options, never which option
// the user chose, as the published AlignXplore+ teacher sees it. The task that
// guides is taken out of the user's validation tasks, so candidates are never
// validated on a task the teacher was shown.

#include <string>
#include <vector>

#include "upm/data/benchmark.h"
#include "upm/data/prompt_template.h"

namespace upm {

// A user's tasks split into the one shown to the teacher and those that
// validate its candidates.
struct GuidedTasks {
  data::BenchmarkTask guide;
  std::vector<data::BenchmarkTask> validation;
};

// The first task guides, the rest validate. InputError when fewer than two
// tasks are given (nothing would be left to validate on).
GuidedTasks split_guide_task(const std::vector<data::BenchmarkTask>& tasks);

class TeacherGuide {
 public:
  // The template's placeholders: {{prompt}} and {{options}} (required),
  // {{context}}. A template that asks for {{answer}} is an InputError: the
  // teacher is never told the answer.
  static TeacherGuide load(const std::string& path, int64_t max_field_chars);

  // The teacher's prompt: `prompt` followed by the guide task's context and
  // options (each one line, at most max_field_chars). Does not read the label.
  std::string render(const std::string& prompt, const data::BenchmarkTask& guide) const;

 private:
  TeacherGuide(data::PromptTemplate t, int64_t max_field_chars)
      : template_(std::move(t)), max_chars_(max_field_chars) {}
  data::PromptTemplate template_;
  int64_t max_chars_;
};

}  // namespace upm
