#include "upm/core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "upm/core/error.h"

namespace upm {

namespace {

std::string holder_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string pid(buffer, n > 0 ? std::size_t(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  const bool digits = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
  return digits ? pid : "unknown";
}

// The file at `path` is still the one `fd` locked (a releasing holder
// unlinks it; whoever opened the old file must open the new one).
bool same_file(int fd, const std::string& path) {
  struct stat open_stat {
  }, path_stat{};
  if (::fstat(fd, &open_stat) != 0 || ::stat(path.c_str(), &path_stat) != 0) return false;
  return open_stat.st_dev == path_stat.st_dev && open_stat.st_ino == path_stat.st_ino;
}

}  // namespace

FileLock::FileLock(std::string lock_path, const std::string& what) : path_(std::move(lock_path)) {
  while (true) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno("cannot create lock file", path_);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error_number = errno;
      const std::string pid = error_number == EWOULDBLOCK ? holder_pid(fd) : "";
      ::close(fd);
      if (error_number != EWOULDBLOCK) {
        errno = error_number;
        throw_errno("cannot lock", path_);
      }
      throw InputError(Location{what, 0, ""}, "in use by another process (PID " + pid + "; lock " + path_ +
                                                  "); wait for it to finish or write elsewhere");
    }
    if (!same_file(fd, path_)) {
      ::close(fd);
      continue;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
      const int error_number = errno;
      ::unlink(path_.c_str());
      ::close(fd);
      errno = error_number;
      throw_errno("cannot write lock file", path_);
    }
    fd_ = fd;
    return;
  }
}

FileLock::~FileLock() { release(); }

FileLock::FileLock(FileLock&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void FileLock::release() {
  if (fd_ < 0) return;
  // Unlinked while still locked, so no one can lock the old file after us.
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

}  // namespace upm
