// prefill_passes: which prompts share a prefill pass, against hand values.

#include "upm/infer/prefill_passes.h"

#include <gtest/gtest.h>

namespace upm::test {
namespace {

using Passes = std::vector<std::vector<size_t>>;

TEST(PrefillPasses, EqualLengthsShareOnePassWhateverTheMaskWouldCost) {
  PrefillPassLimits limits;
  limits.max_mask_elements = 0;  // no padded pass allowed at all
  EXPECT_EQ(prefill_passes({6144, 6144, 6144}, limits), (Passes{{0, 1, 2}}));
}

TEST(PrefillPasses, ShortPromptsArePaddedIntoOnePass) {
  // 3 rows padded to 9 tokens: 27 <= small_pass_tokens (1024).
  EXPECT_EQ(prefill_passes({9, 3, 7}), (Passes{{0, 1, 2}}));
}

TEST(PrefillPasses, LongPromptsOfDifferentLengthsGoAloneWhenTheMaskWouldBeLarge) {
  // 2 x 3000^2 = 18M mask entries > 2^24: each long prompt alone; the
  // two of 100 and 90 tokens share a pass (200 padded tokens).
  EXPECT_EQ(prefill_passes({100, 3000, 2900, 90}), (Passes{{1}, {2}, {0, 3}}));
}

TEST(PrefillPasses, PaddingBeyondTheShareStartsANewPass) {
  PrefillPassLimits limits;
  limits.small_pass_tokens = 0;
  limits.max_padding = 0.25;
  // Longest first: 1000, 900 (2000 padded <= 1.25 x 1900), 800 (3000 padded
  // <= 1.25 x 2700 = 3375), 500 (4000 <= 1.25 x 3200 = 4000), then 100
  // (5000 > 1.25 x 3300 = 4125): a new pass.
  EXPECT_EQ(prefill_passes({500, 1000, 100, 800, 900}, limits), (Passes{{0, 1, 3, 4}, {2}}));
}

TEST(PrefillPasses, WithoutPaddingOnlyEqualLengthsShareAPass) {
  PrefillPassLimits limits;
  limits.small_pass_tokens = 0;
  limits.max_padding = 0.0;
  EXPECT_EQ(prefill_passes({50, 80, 80, 60, 60}, limits), (Passes{{1, 2}, {3, 4}, {0}}));
  EXPECT_TRUE(prefill_passes({}, limits).empty());
}

}  // namespace
}  // namespace upm::test
