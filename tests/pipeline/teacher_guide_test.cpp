// The guiding example shown to an LM teacher (pipeline/teach/teacher_guide.h):
// the teacher is never told which option the user chose, and the task that
// guides never validates.
#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "upm/core/error.h"
#include "upm/pipeline/teach/teacher_guide.h"
#include "upm/core/source_dir.h"

namespace upm {
namespace {

data::BenchmarkTask task(const std::string& id, int label) {
  data::BenchmarkTask t;
  t.user_id = "u1";
  t.task_id = id;
  t.context = "Which movie did the user rate higher?";
  t.options = {"Heat (1995) | Action, Crime", "Babe (1995) | Children, Drama"};
  t.label = label;
  return t;
}

std::string shipped_guide() { return upm::source_dir() + "/configs/prompts/teacher_guide.txt"; }

TEST(TeacherGuide, RenderDoesNotDependOnTheAnswer) {
  const auto guide = TeacherGuide::load(shipped_guide(), 200);
  const std::string chose_a = guide.render("PROFILE PROMPT", task("t1", 0));
  const std::string chose_b = guide.render("PROFILE PROMPT", task("t1", 1));
  EXPECT_EQ(chose_a, chose_b);
  EXPECT_EQ(chose_a.rfind("PROFILE PROMPT", 0), 0u);
  EXPECT_NE(chose_a.find("Which movie did the user rate higher?"), std::string::npos);
  EXPECT_NE(chose_a.find("A: Heat (1995) | Action, Crime"), std::string::npos);
  EXPECT_NE(chose_a.find("B: Babe (1995) | Children, Drama"), std::string::npos);
  EXPECT_EQ(chose_a.find("chose"), std::string::npos) << chose_a;
}

TEST(TeacherGuide, TemplateAskingForTheAnswerIsRefused) {
  test::TempDir dir;
  std::ofstream(dir.file("guide.txt")) << "{{prompt}}\nOptions:\n{{options}}\nThe user chose {{answer}}.\n";
  UPM_EXPECT_THROW_WITH(TeacherGuide::load(dir.file("guide.txt"), 200), InputError, "answer");
}

TEST(TeacherGuide, TheGuideTaskIsTakenOutOfValidation) {
  const auto split = split_guide_task({task("t1", 0), task("t2", 1), task("t3", 0)});
  EXPECT_EQ(split.guide.task_id, "t1");
  ASSERT_EQ(split.validation.size(), 2u);
  EXPECT_EQ(split.validation[0].task_id, "t2");
  EXPECT_EQ(split.validation[1].task_id, "t3");
  UPM_EXPECT_THROW_WITH(split_guide_task({task("t1", 0)}), InputError, "needs two validation tasks");
}

}  // namespace
}  // namespace upm
