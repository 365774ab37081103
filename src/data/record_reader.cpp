#include "upm/data/record_reader.h"

#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"

namespace upm::data {

std::size_t find_invalid_utf8(const std::string& text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = bytes[i];
    std::size_t len;
    unsigned char low = 0x80, high = 0xBF;  // range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) low = 0xA0;   // overlong
      if (c == 0xED) high = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) low = 0x90;   // overlong
      if (c == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return std::string::npos;
}

std::string describe_unparsable(const JsonlRecord& record) {
  std::size_t bad = find_invalid_utf8(record.raw);
  if (bad != std::string::npos) {
    return "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line (JSON text must be UTF-8)";
  }
  return record.error;
}

namespace {

// Rejected records, one JSON line each; written atomically when done.
class RejectsFile {
 public:
  explicit RejectsFile(const std::string& path) {
    if (!path.empty()) writer_ = std::make_unique<AtomicFileWriter>(path);
  }
  void add(const JsonlRecord& record, const Problems& problems) {
    if (!writer_) return;
    nlohmann::json entry = {{"file", record.file}, {"line", record.line}};
    nlohmann::json all = nlohmann::json::array();
    for (const auto& p : problems) all.push_back(p.message());
    entry["problem"] = all.empty() ? "" : all[0];
    entry["problems"] = all;
    entry["raw"] = record.raw;
    // Invalid UTF-8 in the raw line is replaced by U+FFFD so the entry stays valid JSON.
    writer_->write(entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  void commit() {
    if (writer_) writer_->commit();
  }

 private:
  std::unique_ptr<AtomicFileWriter> writer_;
};

}  // namespace

void require_accepted_records(const ReadReport& report, const std::string& path) {
  if (report.records == 0) {
    spdlog::warn("{}: no records (empty input)", path);
    return;
  }
  if (report.accepted > 0) return;
  throw InputError(Location{path, 0, ""}, "none of the " + std::to_string(report.records) + " records is usable" +
                                              (report.problems.empty() ? "" : "; first: " + report.problems.front()));
}

ReadReport read_validated(const std::string& path, const ReadOptions& options, const RecordCheck& check) {
  JsonlReader reader(path);
  RejectsFile rejects(options.strict ? "" : options.rejects_path);
  ReadReport report;
  while (auto record = reader.next()) {
    ++report.records;
    Problems problems;
    if (!record->ok()) {
      problems.push_back({record->where(), describe_unparsable(*record)});
    } else {
      check(*record, problems);
    }
    if (problems.empty()) {
      ++report.accepted;
      continue;
    }
    if (options.strict) throw InputError(problems.front().where, problems.front().problem);
    ++report.rejected;
    for (const auto& p : problems) report.problems.push_back(p.message());
    rejects.add(*record, problems);
  }
  rejects.commit();
  return report;
}

}  // namespace upm::data
