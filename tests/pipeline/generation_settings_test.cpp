#include <gtest/gtest.h>

#include "pipeline_test_util.h"
#include "upm/infer/greedy.h"
#include "upm/pipeline/text_generation.h"
#include "upm/text/tokenizer.h"
#include "upm/text/utf8.h"

namespace upm {
namespace {

TEST(GenerationSettings, DefaultIsGreedyAndEqualsTheGreedyLoop) {
  LanguageModel& lm = test::tiny_model();
  GenerationSettings settings;
  settings.max_new_tokens = 12;
  auto texts = generate_texts(lm, {"likes jazz", "hates horror films"}, settings);
  GreedyOptions greedy;
  greedy.max_new_tokens = 12;
  greedy.stop_ids = stop_token_ids(lm);
  auto ids = greedy_generate(*lm.model, {encode_prompt(lm, "likes jazz"), encode_prompt(lm, "hates horror films")},
                             greedy);
  ASSERT_EQ(texts.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    std::vector<TokenId> tokens(ids[i].begin(), ids[i].end());
    EXPECT_EQ(texts[i], text::utf8_lossy(lm.tokenizer->decode(tokens, true))) << i;
  }
}

TEST(GenerationSettings, SampledProfilesAreReproducibleForASeed) {
  LanguageModel& lm = test::tiny_model();
  GenerationSettings settings;
  settings.max_new_tokens = 16;
  settings.sampling.temperature = 1.0;
  settings.sampling.seed = 11;
  auto first = generate_texts(lm, {"likes jazz", "likes jazz"}, settings);
  auto again = generate_texts(lm, {"likes jazz", "likes jazz"}, settings);
  EXPECT_EQ(first, again);
  EXPECT_NE(first[0], first[1]);  // each prompt has its own stream
  settings.sampling.seed = 12;
  EXPECT_NE(generate_texts(lm, {"likes jazz", "likes jazz"}, settings), first);
}

TEST(GenerationSettings, ConfigReadsTheSamplingSection) {
  auto s = config_from_json<GenerationSettings>({{"sampling", {{"temperature", 0.7}, {"top_p", 0.9}}}}, "job.json");
  EXPECT_DOUBLE_EQ(s.sampling.temperature, 0.7);
  EXPECT_DOUBLE_EQ(s.sampling.top_p, 0.9);
  EXPECT_DOUBLE_EQ(GenerationSettings{}.sampling.temperature, 0.0);
  EXPECT_THROW(config_from_json<GenerationSettings>({{"sampling", {{"top_q", 0.9}}}}, "job.json"), InputError);
}

}  // namespace
}  // namespace upm
