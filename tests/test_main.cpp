#include <gtest/gtest.h>

#include "upm/core/log.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  upm::init_logging(upm::LogOptions{"warn", ""});
  return RUN_ALL_TESTS();
}
