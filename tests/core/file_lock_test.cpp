// Output and run-folder locks: a second writer (thread or process) is refused
// at once with the holder's PID; a killed holder leaves no lock behind.
#include "upm/core/file_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "test_util.h"
#include "upm/core/config.h"
#include "upm/core/run_dir.h"

namespace {

using upm::InputError;

TEST(FileLock, ASecondHolderIsRefusedWithThePid) {
  upm::test::TempDir dir;
  const std::string path = dir.file("out.jsonl.lock");
  upm::FileLock first(path, "out.jsonl");
  EXPECT_TRUE(first.held());
  UPM_EXPECT_THROW_WITH(upm::FileLock(path, "out.jsonl"), InputError,
                        "out.jsonl: in use by another process (PID " + std::to_string(getpid()) + "; lock " + path);
  first.release();
  EXPECT_FALSE(std::filesystem::exists(path));
  upm::FileLock again(path, "out.jsonl");
  EXPECT_TRUE(again.held());
}

TEST(FileLock, ThreadsRacingForOneLockGetItOnceAtATime) {
  upm::test::TempDir dir;
  const std::string path = dir.file("race.lock");
  std::atomic<int> holders{0}, max_holders{0}, refused{0}, acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        try {
          upm::FileLock lock(path, "race");
          const int now = ++holders;
          int seen = max_holders.load();
          while (now > seen && !max_holders.compare_exchange_weak(seen, now)) {}
          ++acquired;
          --holders;
        } catch (const InputError&) {
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(max_holders.load(), 1) << "two holders at once";
  EXPECT_GT(acquired.load(), 0);
  EXPECT_EQ(acquired.load() + refused.load(), 1600);
}

TEST(FileLock, AnotherProcessIsNamedAndItsDeathFreesTheLock) {
  upm::test::TempDir dir;
  const std::string path = dir.file("run.lock");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  if (child == 0) {
    upm::FileLock lock(path, "child");
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  UPM_EXPECT_THROW_WITH(upm::FileLock(path, "run"), InputError,
                        "run: in use by another process (PID " + std::to_string(child) + ";");
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(std::filesystem::exists(path)) << "a killed holder leaves its file";
  upm::FileLock mine(path, "run");
  EXPECT_TRUE(mine.held());
  close(ready[0]);
  close(ready[1]);
}

TEST(FileLock, RunDirectoriesAreLockedForTheJobsLife) {
  upm::test::TempDir dir;
  const std::string run = dir.file("run");
  {
    upm::FileLock lock = upm::prepare_run_dir(run, nlohmann::json{{"lr", 1}});
    UPM_EXPECT_THROW_WITH((void)upm::prepare_run_dir(run, nlohmann::json{{"lr", 2}}), InputError,
                          run + ": in use by another process");
    EXPECT_EQ(upm::read_json_file(run + "/config.json")["lr"], 1) << "the second job wrote nothing";
  }
  EXPECT_NO_THROW((void)upm::prepare_run_dir(run, nlohmann::json{{"lr", 3}}));
}

}  // namespace
