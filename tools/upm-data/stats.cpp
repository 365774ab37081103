// upm-data stats: validate and summarize a user log or a benchmark file.
#include <iostream>
#include <memory>

#include "upm/core/cli.h"
#include "upm/data/stats.h"

namespace {

struct StatsOptions {
  std::string input, benchmark, rejects;
  bool strict = false;
};

int run_stats(const StatsOptions& options) {
  upm::data::ReadOptions read;
  read.strict = options.strict;
  read.rejects_path = options.rejects;
  upm::data::ReadReport report;
  nlohmann::json summary;
  if (!options.input.empty()) {
    summary = upm::data::log_stats(upm::data::read_user_logs(options.input, read, &report));
    summary["file"] = options.input;
  } else {
    summary = upm::data::benchmark_stats(upm::data::read_benchmark(options.benchmark, read, &report));
    summary["file"] = options.benchmark;
  }
  summary["records"] = upm::data::read_report_json(report);
  // Every problem, one line each, so that nothing is silently lost.
  for (const auto& problem : report.problems) std::cerr << "rejected: " << problem << "\n";
  std::cout << summary.dump(2) << std::endl;
  upm::data::require_accepted_records(report, options.input.empty() ? options.benchmark : options.input);
  return upm::kExitOk;
}

upm::cli::RegisterSubcommand reg{
    "stats", "validate and summarize a user log (--input) or a benchmark file (--benchmark)",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<StatsOptions>();
      auto* input = cmd.add_option("--input", opts->input, "user log (JSONL)");
      auto* bench = cmd.add_option("--benchmark", opts->benchmark, "benchmark task file (JSONL)");
      input->excludes(bench);
      cmd.add_flag("--strict", opts->strict, "fail (exit 2) on the first bad record");
      cmd.add_option("--rejects", opts->rejects, "write rejected records here (JSONL)");
      cmd.callback([input, bench] {
        if (input->count() + bench->count() != 1) throw CLI::ValidationError("give --input or --benchmark");
      });
      return [opts] { return run_stats(*opts); };
    }};

}  // namespace
