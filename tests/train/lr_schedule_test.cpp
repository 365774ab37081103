#include "upm/train/lr_schedule.h"

#include <cmath>

#include "test_util.h"

namespace {

using upm::LrScheduleConfig;

TEST(LrSchedule, CosineWithWarmupMatchesHuggingFaceFormula) {
  LrScheduleConfig c{"cosine", 10, 0.0};
  const int64_t total = 110;
  EXPECT_DOUBLE_EQ(upm::lr_multiplier(c, 0, total), 0.0);
  EXPECT_DOUBLE_EQ(upm::lr_multiplier(c, 5, total), 0.5);
  EXPECT_DOUBLE_EQ(upm::lr_multiplier(c, 10, total), 1.0);
  // Halfway through the decay: 0.5 * (1 + cos(pi / 2)) = 0.5.
  EXPECT_NEAR(upm::lr_multiplier(c, 60, total), 0.5, 1e-12);
  EXPECT_NEAR(upm::lr_multiplier(c, 35, total), 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);
  EXPECT_NEAR(upm::lr_multiplier(c, 110, total), 0.0, 1e-12);
}

TEST(LrSchedule, LinearAndConstantAndFloor) {
  EXPECT_NEAR(upm::lr_multiplier({"linear", 0, 0.0}, 25, 100), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(upm::lr_multiplier({"constant", 4, 0.0}, 2, 100), 0.5);
  EXPECT_DOUBLE_EQ(upm::lr_multiplier({"constant", 4, 0.0}, 50, 100), 1.0);
  EXPECT_NEAR(upm::lr_multiplier({"cosine", 0, 0.1}, 100, 100), 0.1, 1e-12);
  EXPECT_NEAR(upm::lr_multiplier({"linear", 0, 0.2}, 50, 100), 0.6, 1e-12);
}

TEST(LrSchedule, ConfigValidation) {
  UPM_EXPECT_THROW_WITH(upm::config_from_json<LrScheduleConfig>({{"kind", "cosine_restarts"}}, "c.json"),
                        upm::InputError, "kind: must be one of {constant, linear, cosine}");
  UPM_EXPECT_THROW_WITH(upm::config_from_json<LrScheduleConfig>({{"warmup_steps", -1}}, "c.json"), upm::InputError,
                        "warmup_steps: must be >= 0");
}

}  // namespace
