#pragma once
// Crash-safe file output. Whole files are written to a temporary beside the
// target, fsync'ed and renamed over it, so a reader (or a rerun after a kill)
// sees the old file or the new one, never a torn one. Streams of records are
// appended one whole line per write, and a torn last line left by a kill is
// cut off when the file is reopened.

#include <cstddef>
#include <string>
#include <string_view>

namespace upm {

// Reads a whole file; InputError if it cannot be opened.
std::string read_file(const std::string& path);

// Writes `content` to `path` atomically (temp + fsync + rename + dir fsync).
void write_file_atomic(const std::string& path, std::string_view content);

// A file being written atomically in pieces: nothing appears at `path` until
// commit(); destroying it uncommitted removes the temporary.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view data);
  void commit();
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Append-only JSONL-style stream. Opening repairs a torn tail (bytes after the
// last '\n', left by a kill mid-write) by truncating them.
class AppendFile {
 public:
  explicit AppendFile(std::string path);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  // Appends `line` plus '\n' with one write(2); `line` must hold no '\n'.
  void append_line(std::string_view line);
  // Forces appended lines to disk.
  void sync();
  // Bytes removed from a torn tail when the file was opened.
  std::size_t repaired_bytes() const { return repaired_bytes_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::size_t repaired_bytes_ = 0;
};

// Creates a directory and its parents; InputError naming it on failure.
void make_directories(const std::string& path);

}  // namespace upm
