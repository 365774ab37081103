#pragma once
// Benchmark tasks (docs/design.md): JSONL, one held-out task per line,
//   {"user_id", "task_id", "context", "options": [..>= 2 strings], "label": index}
// task_id unique within a file, label within [0, options). Unknown fields
// (e.g. "source", "kind", "event_ids" written by `upm-data split`) are kept.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/record_reader.h"

namespace upm::data {

struct BenchmarkTask {
  std::string user_id;
  std::string task_id;
  std::string context;               // "" when absent
  std::vector<std::string> options;  // at least two
  int label = 0;                     // index into options
  nlohmann::json extra = nlohmann::json::object();
};

std::optional<BenchmarkTask> parse_benchmark_task(const JsonlRecord& record, Problems& problems);

nlohmann::json to_json(const BenchmarkTask& task);

std::vector<BenchmarkTask> read_benchmark(const std::string& path, const ReadOptions& options = {},
                                          ReadReport* report = nullptr);

void write_benchmark(const std::string& path, const std::vector<BenchmarkTask>& tasks);

}  // namespace upm::data
