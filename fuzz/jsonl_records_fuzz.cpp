// libFuzzer target: any bytes as a JSONL file read by every record reader of
// the data layer (user logs, benchmark tasks, profiles), leniently and
// strictly. A bad record must come back as a located problem (or, strictly,
// an InputError); accepted records must serialise again; nothing may crash,
// whatever the nesting (the 200 KB nested line that once overflowed the stack).
//
//   cmake -S . -B build-fuzz -DUPM_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   cmake --build build-fuzz --target jsonl_records_fuzz
//   build-fuzz/bin/jsonl_records_fuzz -max_total_time=120 -max_len=262144 fuzz/corpus/jsonl_records

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/data/benchmark.h"
#include "upm/data/profile_record.h"
#include "upm/data/user_log.h"

namespace {

// The readers take a path: the input goes into an in-memory file.
class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) {
    fd_ = memfd_create("jsonl", 0);
    size_t done = 0;
    while (fd_ >= 0 && done < size) {
      ssize_t n = write(fd_, data + done, size - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() {
    if (fd_ >= 0) close(fd_);
  }
  const std::string& path() const { return path_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string path_;
};

template <class Read>
void read_both_ways(const std::string& path, Read read) {
  upm::data::ReadOptions lenient;
  upm::data::ReadReport report;
  for (const auto& record : read(path, lenient, &report)) upm::data::to_json(record).dump();
  if (report.accepted + report.rejected != report.records) __builtin_trap();
  upm::data::ReadOptions strict;
  strict.strict = true;
  try {
    read(path, strict, nullptr);
    if (report.rejected > 0) __builtin_trap();  // strict must refuse what lenient rejected
  } catch (const upm::InputError&) {
    if (report.rejected == 0) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemoryFile file(data, size);
  if (!file.ok()) return 0;
  read_both_ways(file.path(), upm::data::read_user_logs);
  read_both_ways(file.path(), upm::data::read_benchmark);
  read_both_ways(file.path(), upm::data::read_profiles);
  // The raw reader and typed fields, as the SFT, embedding and job readers use them.
  upm::JsonlReader reader(file.path());
  while (auto record = reader.next()) {
    if (!record->ok()) {
      upm::format_location(record->where(), record->error);
      continue;
    }
    for (auto it = record->value.begin(); it != record->value.end(); ++it) {
      try {
        upm::get_field<std::string>(*record, record->value, it.key().c_str());
      } catch (const upm::InputError&) {}
      try {
        upm::get_field<int64_t>(*record, record->value, it.key().c_str());
      } catch (const upm::InputError&) {}
    }
  }
  return 0;
}
