// The local teacher: K seeded samples of a UPM model per user, the same in
// every run and whatever else shares the batch; build-sft runs on it end to end.
#include <set>

#include "pipeline_test_util.h"
#include "upm/pipeline/teach/local_teacher.h"
#include "upm/pipeline/teach/sft_data_builder.h"

namespace {

using upm::test::tiny_model;

upm::LocalTeacherConfig sampled(int64_t tokens) {
  upm::LocalTeacherConfig c;
  c.generation.max_new_tokens = tokens;
  c.generation.sampling.temperature = 1.0;
  return c;
}

upm::TeacherRequest request(const std::string& user, const std::string& prompt, uint64_t seed) {
  upm::TeacherRequest r;
  r.user_id = user;
  r.prompt = prompt;
  r.candidates = 3;
  r.seed = seed;
  return r;
}

TEST(LocalTeacher, SamplesAreSeededPerUserAndIndependentOfTheBatch) {
  upm::LocalTeacher teacher(tiny_model(), sampled(10));
  const auto a = request("a", "Below are one user's actions: rated \"Heat\" 5.", 17);
  const auto b = request("b", "Another user wrote \"I never watch horror.\"", 18);
  const auto together = teacher.generate({a, b});
  const auto alone = teacher.generate({b});
  const auto again = teacher.generate({a, b});
  ASSERT_EQ(together.size(), 2u);
  std::set<std::string> distinct;
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(together[1][k].profile, alone[0][k].profile);
    EXPECT_EQ(together[0][k].profile, again[0][k].profile);
    distinct.insert(together[0][k].profile + "|" + together[0][k].problem);
  }
  EXPECT_GE(distinct.size(), 2u) << "K samples at temperature 1 should differ";
  auto reseeded = a;
  reseeded.seed = 99;
  EXPECT_NE(teacher.generate({reseeded})[0][0].profile + teacher.generate({reseeded})[0][1].profile,
            together[0][0].profile + together[0][1].profile);
}

TEST(LocalTeacher, BuildSftRunsWithAModelTeacherAndItsMergePrompt) {
  upm::test::TempDir dir;
  upm::test::write_synthetic_split(dir.path(), {3, 0, 8, 10, 0.3});
  upm::BuildSftConfig c;
  c.run_dir = dir.file("run");
  c.history = dir.file("history.jsonl");
  c.tasks = dir.file("val.jsonl");
  c.predictor.model = upm::test::tiny_model_dir();
  c.teacher.kind = "local";
  c.teacher.candidates = 2;
  c.teacher.guiding_example = true;
  c.teacher.local = sampled(12);
  c.teacher.local.model = upm::test::tiny_model_dir();
  c.validate.vs_baseline = "none";
  c.validate.min_accuracy = 0.0;  // keep everything: the merge prompt must run
  c.merge.kind = "teacher";
  c.merge.min_accuracy = 0.0;
  const auto summary = upm::run_build_sft(c);
  EXPECT_EQ(summary.job.written + summary.job.errors, 3);
  int merges = 0;
  for (const auto& record : upm::test::read_json_lines(summary.job.output_path)) {
    EXPECT_EQ(record.at("teacher"), "tiny-qwen3");
    // The task shown to the teacher (without its answer) never validates.
    ASSERT_TRUE(record.contains("guide_task"));
    for (const auto& id : record.at("tasks")) EXPECT_NE(id, record.at("guide_task"));
    for (const auto& round : record.at("rounds")) {
      EXPECT_EQ(round.at("candidates").size(), 2u);
      merges += round.contains("merge");
    }
  }
  EXPECT_GT(merges, 0);
}

}  // namespace
