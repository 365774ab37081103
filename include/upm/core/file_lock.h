#pragma once
// An advisory lock (flock(2)) held for a job's life on the files it writes, so
// that two jobs never interleave lines in one output or one run folder. The
// lock file (OUTPUT.lock, RUN_DIR/run.lock) holds the holder's PID for the
// message a second writer gets; it is removed when the lock is released. The
// kernel drops the lock of a killed process, so a stale file never blocks.

#include <string>

namespace upm {

class FileLock {
 public:
  FileLock() = default;
  // Takes the lock on `lock_path` at once or throws InputError (exit 2):
  // "WHAT: in use by another process (PID 1234; lock LOCK_PATH) ...".
  FileLock(std::string lock_path, const std::string& what);
  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  bool held() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // Releases the lock (and removes the lock file) now.
  void release();

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace upm
