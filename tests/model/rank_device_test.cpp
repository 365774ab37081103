// Which device a rank's "device" string names (model/rank_device.h): the rule
// is tested with the GPU count passed in, so it runs on machines without one.
#include <cstdlib>

#include <gtest/gtest.h>

#include "test_util.h"
#include "upm/core/error.h"
#include "upm/model/model_runtime.h"
#include "upm/model/rank_device.h"

namespace upm {
namespace {

TEST(RankDevice, CpuStaysCpuWhateverTheRank) {
  EXPECT_EQ(device_for_rank("cpu", 3, 0), c10::Device(c10::kCPU));
  EXPECT_EQ(device_for_rank("cpu", 0, 8), c10::Device(c10::kCPU));
}

TEST(RankDevice, CudaWithoutAnIndexIsTheLocalRanksGpu) {
  EXPECT_EQ(device_for_rank("cuda", 0, 1), c10::Device(c10::kCUDA, 0));
  EXPECT_EQ(device_for_rank("cuda", 5, 8), c10::Device(c10::kCUDA, 5));
  EXPECT_EQ(device_for_rank("cuda", 7, 8), c10::Device(c10::kCUDA, 7));
}

TEST(RankDevice, AnExplicitIndexIsKept) {
  EXPECT_EQ(device_for_rank("cuda:2", 5, 8), c10::Device(c10::kCUDA, 2));
  EXPECT_EQ(device_for_rank("cuda:0", 1, 2), c10::Device(c10::kCUDA, 0));
}

TEST(RankDevice, MissingGpusAreClearErrors) {
  UPM_EXPECT_THROW_WITH(device_for_rank("cuda", 0, 0), InputError, "no CUDA device is available");
  UPM_EXPECT_THROW_WITH(device_for_rank("cuda", 2, 2), InputError, "cuda:2 (this rank's LOCAL_RANK)");
  UPM_EXPECT_THROW_WITH(device_for_rank("cuda", 2, 2), InputError, "shows 2 CUDA device(s)");
  UPM_EXPECT_THROW_WITH(device_for_rank("cuda:4", 0, 2), InputError, "runtime.device");
  UPM_EXPECT_THROW_WITH(device_for_rank("gpu", 0, 2), InputError, "malformed device \"gpu\"");
}

TEST(RankDevice, RuntimeDeviceReadsLocalRankOnlyForCuda) {
  // A malformed LOCAL_RANK is not read by CPU jobs; a bare "cuda" reads it.
  setenv("LOCAL_RANK", "x", 1);
  ModelRuntime runtime;
  runtime.device = "cpu";
  EXPECT_EQ(runtime_device(runtime), c10::Device(c10::kCPU));
  runtime.device = "cuda";
  UPM_EXPECT_THROW_WITH(runtime_device(runtime), InputError, "LOCAL_RANK");
  unsetenv("LOCAL_RANK");
}

}  // namespace
}  // namespace upm
