// Environment failures (disk full, permission, read-only file system) exit 3
// and name the path; a disk that fills mid-line leaves no torn line.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "test_util.h"
#include "upm/core/atomic_file.h"
#include "upm/core/error.h"

namespace {

TEST(ExitCodes, ADiskFullWriteIsAnEnvironmentErrorNamingThePath) {
  // /dev/full answers every write with ENOSPC.
  upm::AppendFile full("/dev/full");
  try {
    full.append_line("{\"user_id\":\"u1\"}");
    ADD_FAILURE() << "expected an EnvironmentError";
  } catch (const upm::EnvironmentError& e) {
    EXPECT_EQ(upm::exit_code_for(e), upm::kExitEnvironment);
    EXPECT_EQ(std::string(e.what()), "cannot write /dev/full: No space left on device");
  }
}

TEST(ExitCodes, PermissionDeniedIsAnEnvironmentError) {
  // sysfs refuses new files even to root (EACCES; EROFS where mounted read-only).
  try {
    upm::AppendFile file("/sys/upm-exit-code-test.jsonl");
    ADD_FAILURE() << "expected an EnvironmentError";
  } catch (const upm::EnvironmentError& e) {
    EXPECT_EQ(upm::exit_code_for(e), 3);
    EXPECT_NE(std::string(e.what()).find("/sys/upm-exit-code-test.jsonl"), std::string::npos) << e.what();
  }
  try {
    upm::write_file_atomic("/sys/upm-exit-code-test.json", "{}");
    ADD_FAILURE() << "expected an EnvironmentError";
  } catch (const upm::EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("/sys/upm-exit-code-test.json"), std::string::npos) << e.what();
  }
}

TEST(ExitCodes, MissingDirectoriesStayInputErrors) {
  upm::test::TempDir dir;
  EXPECT_THROW(upm::AppendFile(dir.file("no/such/dir/out.jsonl")), upm::InputError);
}

TEST(ExitCodes, FilesystemErrorsMapByErrno) {
  const std::filesystem::filesystem_error full("cannot copy", "/data/out",
                                               std::make_error_code(std::errc::no_space_on_device));
  EXPECT_EQ(upm::exit_code_for(full), upm::kExitEnvironment);
  const std::filesystem::filesystem_error ro("cannot copy", "/data/out",
                                             std::make_error_code(std::errc::read_only_file_system));
  EXPECT_EQ(upm::exit_code_for(ro), upm::kExitEnvironment);
  const std::filesystem::filesystem_error other("cannot copy", "/data/out",
                                                std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(upm::exit_code_for(other), upm::kExitInternal);
  EXPECT_EQ(upm::exit_code_for(upm::InputError("x")), upm::kExitBadInput);
}

}  // namespace
