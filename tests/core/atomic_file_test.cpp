#include "upm/core/atomic_file.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "upm/core/jsonl.h"

namespace {

std::string slurp(const std::string& path) { return upm::read_file(path); }

TEST(AtomicFile, WritesWholeFileAndLeavesNoTemporary) {
  upm::test::TempDir dir;
  std::string path = dir.file("out.json");
  upm::write_file_atomic(path, "old");
  upm::write_file_atomic(path, "new content");
  EXPECT_EQ(slurp(path), "new content");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, UncommittedWriterLeavesTargetUntouched) {
  upm::test::TempDir dir;
  std::string path = dir.file("out.txt");
  upm::write_file_atomic(path, "old");
  {
    upm::AtomicFileWriter writer(path);
    writer.write("half of the new");
    EXPECT_TRUE(std::filesystem::exists(writer.temp_path()));
  }
  EXPECT_EQ(slurp(path), "old");
}

// A child process writes a large file atomically and is SIGKILLed midway: the
// target must still hold the complete old content.
TEST(AtomicFile, KillMidWriteKeepsOldContent) {
  upm::test::TempDir dir;
  std::string path = dir.file("big.txt");
  upm::write_file_atomic(path, "old");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    upm::AtomicFileWriter writer(path);
    std::string block(1 << 16, 'x');
    writer.write(block);
    (void)!write(ready[1], "r", 1);
    while (true) writer.write(block);  // killed in here
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(slurp(path), "old");
  close(ready[0]);
  close(ready[1]);
}

TEST(AppendFile, RepairsTornLastLineOnReopen) {
  upm::test::TempDir dir;
  std::string path = dir.file("s.jsonl");
  std::ofstream(path, std::ios::binary) << "{\"a\":1}\n{\"a\":2}\n{\"a\":";
  upm::AppendFile file(path);
  EXPECT_EQ(file.repaired_bytes(), 5u);
  file.append_line("{\"a\":3}");
  file.sync();
  EXPECT_EQ(slurp(path), "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
}

TEST(AppendFile, RejectsEmbeddedNewline) {
  upm::test::TempDir dir;
  upm::AppendFile file(dir.file("s.jsonl"));
  EXPECT_THROW(file.append_line("a\nb"), upm::Error);
}

// A writer killed while appending many records leaves only whole lines once
// the file is reopened: every surviving line parses.
TEST(AppendFile, KillWhileAppendingLeavesOnlyWholeRecords) {
  upm::test::TempDir dir;
  std::string path = dir.file("stream.jsonl");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    upm::AppendFile file(path);
    std::string payload(3000, 'p');
    for (int i = 0;; ++i) {
      file.append_line("{\"i\":" + std::to_string(i) + ",\"p\":\"" + payload + "\"}");
      if (i == 100) (void)!write(ready[1], "r", 1);
    }
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
  close(ready[1]);

  { upm::AppendFile reopened(path); }
  upm::JsonlReader reader(path);
  int expected = 0;
  while (auto r = reader.next()) {
    ASSERT_TRUE(r->ok()) << "line " << r->line;
    EXPECT_EQ(r->value["i"].get<int>(), expected++);
  }
  EXPECT_GT(expected, 100);
}

}  // namespace
