#include "upm/data/conversion.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/data/movielens.h"
#include "upm/data/stats.h"

namespace upm::data {

nlohmann::json write_converted(const std::vector<UserLog>& logs, const std::string& dir, const SplitConfig* split) {
  make_directories(dir);
  write_user_logs(dir + "/log.jsonl", logs);
  nlohmann::json summary = {{"log", log_stats(logs)}};
  if (split) {
    SplitResult result = split_logs(logs, *split);
    write_split(result, *split, dir);
    summary["split"] = split_summary(result);
  }
  return summary;
}

std::string read_deb822_text(const std::string& input) {
  std::ostringstream text;
  if (input == "-") {
    text << std::cin.rdbuf();
  } else if (!input.empty()) {
    std::ifstream in(input, std::ios::binary);
    if (!in) throw InputError(Location{input, 0, ""}, "cannot open");
    text << in.rdbuf();
  } else {
    FILE* pipe = popen("apt-cache dumpavail", "r");
    if (!pipe) throw InputError("cannot run apt-cache dumpavail");
    char buffer[1 << 16];
    std::size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.write(buffer, static_cast<std::streamsize>(n));
    if (pclose(pipe) != 0) throw InputError("apt-cache dumpavail failed (is apt installed and updated?)");
  }
  return text.str();
}

namespace {

std::vector<UserLog> convert_debian(const ConvertJob& job) {
  std::istringstream in(read_deb822_text(job.input));
  auto stanzas = parse_deb822(in, job.input.empty() ? "apt-cache dumpavail" : job.input);
  DebianConvertReport report;
  auto logs = debian_packages_to_logs(stanzas, job.debian, &report);
  spdlog::info("{} stanzas, {} packages ({} duplicates, {} without maintainer), {} maintainers, {} with >= {} packages",
               report.stanzas, report.packages, report.duplicates, report.without_maintainer, report.maintainers,
               report.users_kept, job.debian.min_packages);
  return logs;
}

std::vector<UserLog> convert_movielens(const ConvertJob& job) {
  MovieLensReport report;
  auto logs = movielens_to_logs(job.input, &report);
  spdlog::info("MovieLens ({} layout): {} ratings by {} users of {} movies ({} duplicate ratings skipped)",
               report.layout, report.ratings, report.users, report.movies, report.duplicates);
  return logs;
}

std::vector<UserLog> convert_pairwise(const ConvertJob& job) {
  ReadOptions read;
  read.strict = job.strict;
  read.rejects_path = job.output + "/rejects.jsonl";
  make_directories(job.output);
  ReadReport report;
  auto logs = pairwise_to_logs(job.input, job.pairwise, read, &report);
  for (const auto& problem : report.problems) spdlog::warn("rejected: {}", problem);
  spdlog::info("{} records, {} rejected, {} users", report.records, report.rejected, logs.size());
  return logs;
}

}  // namespace

nlohmann::json run_convert_job(const ConvertJob& job) {
  std::vector<UserLog> logs = job.source == ConvertSource::debian_packages ? convert_debian(job)
                              : job.source == ConvertSource::movielens     ? convert_movielens(job)
                                                                           : convert_pairwise(job);
  return write_converted(logs, job.output, job.split ? &job.split_config : nullptr);
}

}  // namespace upm::data
