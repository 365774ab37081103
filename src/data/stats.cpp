#include "upm/data/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

namespace upm::data {

namespace {

void bump(nlohmann::json& counts, const std::string& key) { counts[key] = counts.value(key, 0) + 1; }

// Nearest-rank percentile of sorted values.
std::size_t percentile(const std::vector<std::size_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  std::size_t rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

nlohmann::json log_stats(const std::vector<UserLog>& logs) {
  nlohmann::json by_kind = nlohmann::json::object(), by_source = nlohmann::json::object(),
                 by_source_kind = nlohmann::json::object();
  std::vector<std::size_t> per_user;
  std::size_t events = 0, with_ts = 0;
  for (const auto& log : logs) {
    per_user.push_back(log.events.size());
    for (const auto& e : log.events) {
      ++events;
      with_ts += !e.ts.empty();
      const std::string source = e.source.empty() ? "(none)" : e.source;
      bump(by_kind, kind_name(e.kind));
      bump(by_source, source);
      bump(by_source_kind, source + "/" + kind_name(e.kind));
    }
  }
  std::sort(per_user.begin(), per_user.end());
  double mean = logs.empty() ? 0.0 : static_cast<double>(events) / static_cast<double>(logs.size());
  return {{"users", logs.size()},
          {"events", events},
          {"by_kind", by_kind},
          {"by_source", by_source},
          {"by_source_kind", by_source_kind},
          {"events_per_user",
           {{"min", per_user.empty() ? 0 : per_user.front()},
            {"p10", percentile(per_user, 0.1)},
            {"median", percentile(per_user, 0.5)},
            {"mean", std::round(mean * 100) / 100},
            {"p90", percentile(per_user, 0.9)},
            {"max", per_user.empty() ? 0 : per_user.back()}}},
          {"with_ts", with_ts}};
}

nlohmann::json benchmark_stats(const std::vector<BenchmarkTask>& tasks) {
  nlohmann::json by_kind = nlohmann::json::object(), by_source = nlohmann::json::object();
  std::set<std::string> users;
  std::vector<std::size_t> label_counts;
  std::size_t min_options = tasks.empty() ? 0 : SIZE_MAX, max_options = 0;
  for (const auto& t : tasks) {
    users.insert(t.user_id);
    bump(by_kind, t.extra.value("kind", "(none)"));
    bump(by_source, t.extra.value("source", "(none)"));
    if (label_counts.size() <= static_cast<std::size_t>(t.label)) label_counts.resize(t.label + 1, 0);
    ++label_counts[t.label];
    min_options = std::min(min_options, t.options.size());
    max_options = std::max(max_options, t.options.size());
  }
  double label0 = tasks.empty() || label_counts.empty()
                      ? 0.0
                      : static_cast<double>(label_counts[0]) / static_cast<double>(tasks.size());
  return {{"tasks", tasks.size()},
          {"users", users.size()},
          {"by_kind", by_kind},
          {"by_source", by_source},
          {"options", {{"min", min_options}, {"max", max_options}}},
          {"label_counts", label_counts},
          {"label_0_fraction", std::round(label0 * 10000) / 10000}};
}

nlohmann::json read_report_json(const ReadReport& report) {
  return {{"records", report.records}, {"accepted", report.accepted}, {"rejected", report.rejected}};
}

FileStats file_stats(const StatsJob& job) {
  ReadOptions read;
  read.strict = job.strict;
  read.rejects_path = job.rejects;
  FileStats out;
  if (!job.input.empty()) {
    out.file = job.input;
    out.summary = log_stats(read_user_logs(job.input, read, &out.report));
  } else {
    out.file = job.benchmark;
    out.summary = benchmark_stats(read_benchmark(job.benchmark, read, &out.report));
  }
  out.summary["file"] = out.file;
  out.summary["records"] = read_report_json(out.report);
  return out;
}

}  // namespace upm::data
