// The "generation" section of the text-writing jobs (profiles, updates, local
// teachers): infer's GenerationConfig with the jobs' own defaults, decoded by
// generate_texts.
#include <gtest/gtest.h>

#include "pipeline_test_util.h"
#include "upm/infer/generator.h"
#include "upm/infer/greedy.h"
#include "upm/infer/sampler.h"
#include "upm/infer/text_generation.h"
#include "upm/pipeline/profile/profiler.h"
#include "upm/pipeline/teach/teacher_config.h"
#include "upm/text/tokenizer.h"
#include "upm/text/utf8.h"

namespace upm {
namespace {

TEST(GenerationSection, ProfileDefaultIsGreedyAndEqualsTheGreedyLoop) {
  LanguageModel& lm = test::tiny_model();
  GenerationConfig config = ProfileJobConfig{}.generation;
  config.max_new_tokens = 12;
  auto texts = generate_texts(lm, {"likes jazz", "hates horror films"}, config);
  GreedyOptions greedy;
  greedy.max_new_tokens = 12;
  greedy.stop_ids = stop_token_ids(lm);
  auto ids =
      greedy_generate(*lm.model, {encode_prompt(lm, "likes jazz"), encode_prompt(lm, "hates horror films")}, greedy);
  ASSERT_EQ(texts.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    std::vector<TokenId> tokens(ids[i].begin(), ids[i].end());
    EXPECT_EQ(texts[i], text::utf8_lossy(lm.tokenizer->decode(tokens, true))) << i;
  }
}

TEST(GenerationSection, SampledProfilesAreReproducibleForASeed) {
  LanguageModel& lm = test::tiny_model();
  GenerationConfig config = ProfileJobConfig{}.generation;
  config.max_new_tokens = 16;
  config.sampling.temperature = 1.0;
  config.sampling.seed = 11;
  auto first = generate_texts(lm, {"likes jazz", "likes jazz"}, config);
  auto again = generate_texts(lm, {"likes jazz", "likes jazz"}, config);
  EXPECT_EQ(first, again);
  EXPECT_NE(first[0], first[1]);  // each prompt has its own stream
  config.sampling.seed = 12;
  EXPECT_NE(generate_texts(lm, {"likes jazz", "likes jazz"}, config), first);
}

// One knob for the batch: prompts decoded max_batch_sequences at a time, with
// prompt i on stream sequence_seed(seed, i), are exactly separate calls of
// that many prompts seeded by their position in the whole list.
TEST(GenerationSection, WavesOfMaxBatchSequencesEqualSeparateCalls) {
  LanguageModel& lm = test::tiny_model();
  const std::vector<std::string> prompts = {"likes jazz", "hates horror films", "reads history", "likes jazz", "cooks"};
  GenerationConfig config = ProfileJobConfig{}.generation;
  config.max_new_tokens = 10;
  config.max_batch_sequences = 2;
  config.sampling.temperature = 1.0;
  config.sampling.seed = 5;
  const auto texts = generate_texts(lm, prompts, config);

  Generator generator(*lm.model, lm.tokenizer.get());
  std::vector<std::string> apart;
  for (size_t start = 0; start < prompts.size(); start += 2) {
    std::vector<std::vector<int64_t>> batch;
    std::vector<uint64_t> seeds;
    for (size_t i = start; i < std::min(prompts.size(), start + 2); ++i) {
      batch.push_back(encode_prompt(lm, prompts[i]));
      seeds.push_back(sequence_seed(config.sampling.seed, i));
    }
    for (const Generation& g : generator.generate(batch, config, seeds)) apart.push_back(text::utf8_lossy(g.text));
  }
  EXPECT_EQ(texts, apart);
}

TEST(GenerationSection, ConfigReadsTheSamplingSection) {
  auto c = config_from_json<ProfileJobConfig>(
      {{"generation", {{"sampling", {{"temperature", 0.7}, {"top_p", 0.9}}}, {"max_batch_sequences", 3}}}}, "job.json");
  EXPECT_DOUBLE_EQ(c.generation.sampling.temperature, 0.7);
  EXPECT_DOUBLE_EQ(c.generation.sampling.top_p, 0.9);
  EXPECT_EQ(c.generation.max_batch_sequences, 3);
  EXPECT_EQ(c.generation.max_new_tokens, 1024);  // the profile default survives a partial section
  EXPECT_THROW(config_from_json<ProfileJobConfig>({{"generation", {{"sampling", {{"top_q", 0.9}}}}}}, "job.json"),
               InputError);
}

TEST(GenerationSection, JobsSetTheirOwnDefaults) {
  const GenerationConfig profile = ProfileJobConfig{}.generation;
  EXPECT_DOUBLE_EQ(profile.sampling.temperature, 0.0);
  EXPECT_EQ(profile.max_new_tokens, 1024);
  EXPECT_EQ(profile.max_batch_sequences, 8);
  const GenerationConfig teacher = LocalTeacherConfig{}.generation;
  EXPECT_DOUBLE_EQ(teacher.sampling.temperature, 1.0);
  EXPECT_EQ(teacher.max_new_tokens, 512);
  EXPECT_EQ(teacher.max_batch_sequences, 8);
}

TEST(GenerationSection, OldAndEmptyKeysAreErrors) {
  // max_batch_sequences is the batch knob's one name.
  EXPECT_THROW(config_from_json<ProfileJobConfig>({{"generation", {{"batch_size", 8}}}}, "job.json"), InputError);
  EXPECT_THROW(config_from_json<ProfileJobConfig>({{"generation", {{"max_new_tokens", 0}}}}, "job.json"), InputError);
  EXPECT_THROW(config_from_json<LocalTeacherConfig>({{"generation", {{"max_new_tokens", 0}}}}, "job.json"), InputError);
}

}  // namespace
}  // namespace upm
