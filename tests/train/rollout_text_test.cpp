// Rollout texts are repaired to valid UTF-8 (as upm-profile's are) without
// moving a reward: what the reward reads of a text (the think split, the
// profile, its token count, the prompts it is put into) is the same for the
// raw bytes and their repair.
#include <gtest/gtest.h>

#include "train_test_util.h"
#include "upm/text/tokenizer.h"
#include "upm/text/utf8.h"
#include "upm/train/rl_reward.h"

namespace upm {
namespace {

TEST(RolloutText, RepairLeavesWhatTheRewardReadsUnchanged) {
  const auto tokenizer = load_tokenizer(test::tiny_tokenizer());
  // Cut characters (a generation stopped inside one), stray continuation
  // bytes and an invalid lead byte, beside the tags and at the ends.
  const std::vector<std::string> texts = {
      "<think>r\xE2\x80</think> likes jazz\xE2\x82",
      "<think>\x80 r</think>\n\xF0\x9F\x8E likes jazz \xC3",
      "\xE2\x80<think>r</think>p",
      "<think>\xFFr\xFE</think> \xC3\xA9t\xC3",
      "<think>never closed \xE2\x80",
      "no think \xC0\xAF block",
  };
  for (bool require_think : {true, false}) {
    for (const std::string& raw : texts) {
      const PolicyOutput a = parse_policy_output(raw, require_think);
      const PolicyOutput b = parse_policy_output(text::utf8_lossy(raw), require_think);
      EXPECT_EQ(a.well_formed, b.well_formed) << raw;
      EXPECT_EQ(text::utf8_lossy(a.profile), b.profile) << raw;
      EXPECT_EQ(tokenizer->encode(a.profile), tokenizer->encode(b.profile)) << raw;
      EXPECT_EQ(tokenizer->encode("Profile: " + a.profile + "\nAnswer:"),
                tokenizer->encode("Profile: " + b.profile + "\nAnswer:"))
          << raw;
    }
  }
}

}  // namespace
}  // namespace upm
