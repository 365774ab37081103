// core/rank_env: torchrun's variables read by one set of rules; every bad
// value is an InputError naming its variable.
#include "upm/core/rank_env.h"

#include <cstdlib>
#include <string>

#include "test_util.h"
#include "upm/core/error.h"

namespace {

using upm::InputError;
using upm::rank_env_from_environment;

// Clears the variables before and after each test.
class RankEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(v);
  }
};

// rank, world size, local rank, master address and port as one line.
std::string summary(const upm::RankEnv& env) {
  return std::to_string(env.rank) + "/" + std::to_string(env.world_size) + " local " + std::to_string(env.local_rank) +
         " at " + env.master_addr + ":" + std::to_string(env.master_port);
}

TEST_F(RankEnvTest, UnsetIsOneLoneProcess) {
  const auto env = rank_env_from_environment();
  EXPECT_EQ(summary(env), "0/1 local 0 at 127.0.0.1:29500");
  EXPECT_FALSE(env.distributed());
}

TEST_F(RankEnvTest, EmptyCountsAsUnset) {
  setenv("WORLD_SIZE", "", 1);
  setenv("RANK", "", 1);
  EXPECT_EQ(rank_env_from_environment().world_size, 1);
}

TEST_F(RankEnvTest, ReadsTorchrunsVariables) {
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "3", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "10.0.0.1", 1);
  setenv("MASTER_PORT", "1234", 1);
  const auto env = rank_env_from_environment();
  EXPECT_EQ(summary(env), "3/4 local 1 at 10.0.0.1:1234");
  EXPECT_TRUE(env.distributed());
}

TEST_F(RankEnvTest, LocalRankDefaultsToRank) {
  setenv("WORLD_SIZE", "2", 1);
  setenv("RANK", "1", 1);
  EXPECT_EQ(rank_env_from_environment().local_rank, 1);
}

TEST_F(RankEnvTest, RankIsRequiredAmongSeveral) {
  setenv("WORLD_SIZE", "2", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "RANK: required when WORLD_SIZE > 1");
}

TEST_F(RankEnvTest, RankMustBeBelowWorldSize) {
  setenv("WORLD_SIZE", "2", 1);
  setenv("RANK", "2", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "RANK 2 must be < WORLD_SIZE 2");
  // Also when WORLD_SIZE is unset: a rank 1 of 1 is a launch gone wrong.
  unsetenv("WORLD_SIZE");
  setenv("RANK", "1", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "RANK 1 must be < WORLD_SIZE 1");
  setenv("RANK", "0", 1);
  setenv("LOCAL_RANK", "1", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "LOCAL_RANK 1 must be < WORLD_SIZE 1");
}

TEST_F(RankEnvTest, MalformedValuesNameTheVariable) {
  for (const char* bad : {"x", "2x", "-1", "0", "99999999999"}) {
    setenv("WORLD_SIZE", bad, 1);
    UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "WORLD_SIZE");
  }
  setenv("WORLD_SIZE", "2", 1);
  setenv("RANK", "one", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "RANK");
  setenv("RANK", "1", 1);
  setenv("LOCAL_RANK", "1.5", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "LOCAL_RANK");
  unsetenv("LOCAL_RANK");
  setenv("MASTER_PORT", "70000", 1);
  UPM_EXPECT_THROW_WITH(rank_env_from_environment(), InputError, "MASTER_PORT");
}

TEST_F(RankEnvTest, MasterVariablesAreIgnoredByALoneProcess) {
  setenv("MASTER_PORT", "not a port", 1);
  setenv("MASTER_ADDR", "10.0.0.1", 1);
  EXPECT_EQ(summary(rank_env_from_environment()), "0/1 local 0 at 127.0.0.1:29500");
}

}  // namespace
