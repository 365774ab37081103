#pragma once
// Summaries of data files for `upm-data stats` and reports.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/benchmark.h"
#include "upm/data/record_reader.h"
#include "upm/data/user_log.h"

namespace upm::data {

// {"users", "events", "by_kind", "by_source", "by_source_kind",
//  "events_per_user": {"min","p10","median","mean","p90","max"}, "with_ts"}
nlohmann::json log_stats(const std::vector<UserLog>& logs);

// {"tasks", "users", "by_kind", "by_source", "options": {"min","max"},
//  "label_counts": [...], "label_0_fraction"}
nlohmann::json benchmark_stats(const std::vector<BenchmarkTask>& tasks);

// {"records", "accepted", "rejected"}
nlohmann::json read_report_json(const ReadReport& report);

// `upm-data stats`: one file, a user log (`input`) or a benchmark (`benchmark`).
struct StatsJob {
  std::string input;      // user log; "" = read `benchmark`
  std::string benchmark;  // benchmark task file
  std::string rejects;    // rejected records written here (JSONL); "" = none
  bool strict = false;    // the first bad record is an InputError
};

struct FileStats {
  std::string file;        // the file read
  nlohmann::json summary;  // log_stats or benchmark_stats, plus "file" and "records" (read_report_json)
  ReadReport report;       // its problems, one line each
};

FileStats file_stats(const StatsJob& job);

}  // namespace upm::data
