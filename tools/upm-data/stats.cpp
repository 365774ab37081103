// upm-data stats: validate and summarize a user log or a benchmark file (data/stats.h).
#include <iostream>
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/data/stats.h"

namespace {

upm::cli::RegisterSubcommand reg{
    "stats", "validate and summarize a user log (--input) or a benchmark file (--benchmark)", [](CLI::App& cmd) {
      auto job = std::make_shared<upm::data::StatsJob>();
      auto* input = cmd.add_option("--input", job->input, "user log (JSONL)");
      auto* bench = cmd.add_option("--benchmark", job->benchmark, "benchmark task file (JSONL)");
      input->excludes(bench);
      cmd.add_flag("--strict", job->strict, "fail (exit 2) on the first bad record");
      cmd.add_option("--rejects", job->rejects, "write rejected records here (JSONL)");
      cmd.callback([input, bench] {
        if (input->count() + bench->count() != 1) throw CLI::ValidationError("give --input or --benchmark");
      });
      return [job] {
        upm::data::FileStats stats = upm::data::file_stats(*job);
        // Every problem, one line each, so that nothing is silently lost.
        for (const auto& problem : stats.report.problems) std::cerr << "rejected: " << problem << "\n";
        std::cout << stats.summary.dump(2) << std::endl;
        upm::data::require_accepted_records(stats.report, stats.file);
        return upm::kExitOk;
      };
    }};

}  // namespace
