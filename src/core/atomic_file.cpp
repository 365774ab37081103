#include "upm/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "upm/core/error.h"

namespace upm {

namespace {

void write_all(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", path);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// The rename is durable only once the directory entry itself is on disk.
void sync_parent_directory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string unique_suffix() {
  std::random_device device;
  std::ostringstream out;
  out << ".tmp." << ::getpid() << "." << std::hex << device();
  return out.str();
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Location{path, 0, ""}, "cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void make_directories(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (!ec) return;
  if (is_environment_errno(ec.value())) throw EnvironmentError("cannot create directory " + path + ": " + ec.message());
  throw InputError(Location{path, 0, ""}, "cannot create directory: " + ec.message());
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)), temp_path_(path_ + unique_suffix()) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno("cannot create", temp_path_);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(std::string_view data) { write_all(fd_, data, temp_path_); }

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) throw_errno("cannot fsync", temp_path_);
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) throw_errno("cannot rename to", path_);
  committed_ = true;
  sync_parent_directory(path_);
}

void write_file_atomic(const std::string& path, std::string_view content) {
  AtomicFileWriter writer(path);
  writer.write(content);
  writer.commit();
}

AppendFile::AppendFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno("cannot open", path_);
  off_t size = ::lseek(fd_, 0, SEEK_END);
  // Scan back to the last newline; anything after it is a torn record.
  off_t keep = size;
  char chunk[4096];
  while (keep > 0) {
    off_t start = keep > off_t(sizeof chunk) ? keep - off_t(sizeof chunk) : 0;
    ssize_t n = ::pread(fd_, chunk, static_cast<size_t>(keep - start), start);
    if (n <= 0) break;
    ssize_t i = n - 1;
    while (i >= 0 && chunk[i] != '\n') --i;
    if (i >= 0) {
      keep = start + i + 1;
      break;
    }
    keep = start;
  }
  if (keep < size) {
    if (::ftruncate(fd_, keep) != 0) throw_errno("cannot truncate", path_);
    repaired_bytes_ = static_cast<std::size_t>(size - keep);
  }
  ::lseek(fd_, 0, SEEK_END);
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

void AppendFile::append_line(std::string_view line) {
  if (line.find('\n') != std::string_view::npos) {
    throw Error("AppendFile::append_line: a record may not contain a newline");
  }
  std::string record;
  record.reserve(line.size() + 1);
  record.append(line);
  record.push_back('\n');
  const off_t start = ::lseek(fd_, 0, SEEK_CUR);
  try {
    write_all(fd_, record, path_);
  } catch (...) {
    // A partial line (disk full mid-write) is cut off now, not left for the
    // next open to repair: the file stays whole lines.
    if (start >= 0 && ::ftruncate(fd_, start) == 0) ::lseek(fd_, start, SEEK_SET);
    throw;
  }
}

void AppendFile::sync() {
  if (::fsync(fd_) != 0) throw_errno("cannot fsync", path_);
}

}  // namespace upm
