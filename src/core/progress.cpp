#include "upm/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "upm/core/rank_env.h"

namespace upm {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<int64_t>(seconds + 0.5);
  int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buffer[32];
  if (h > 0) {
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm%02llds", (long long)h, (long long)m, (long long)s);
  } else if (m > 0) {
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", (long long)m, (long long)s);
  } else {
    std::snprintf(buffer, sizeof buffer, "%llds", (long long)s);
  }
  return buffer;
}

Progress::Progress(std::string label, int64_t total, std::string unit, double log_interval_s)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      log_interval_s_(log_interval_s),
      rank_(rank_env_from_environment().rank),
      on_terminal_(rank_ == 0 && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_report_(start_) {}

Progress::~Progress() { finish(); }

double Progress::rate() const {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
}

std::string Progress::status_line() const {
  char buffer[256];
  double r = rate();
  if (total_ > 0) {
    double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    double eta = r > 0 ? static_cast<double>(total_ - done_) / r : NAN;
    std::snprintf(buffer, sizeof buffer, "%s [%s] %lld/%lld %s (%.0f%%) %.2f %s/s ETA %s", label_.c_str(), bar.c_str(),
                  (long long)done_, (long long)total_, unit_.c_str(), 100.0 * fraction, r, unit_.c_str(),
                  format_duration(eta).c_str());
  } else {
    std::snprintf(buffer, sizeof buffer, "%s %lld %s %.2f %s/s", label_.c_str(), (long long)done_, unit_.c_str(), r,
                  unit_.c_str());
  }
  return buffer;
}

void Progress::advance(int64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_report_).count();
  // A terminal bar is cheap to redraw; a log gets a line now and then.
  if ((on_terminal_ && since >= 0.2) || since >= log_interval_s_) {
    last_report_ = now;
    report(false);
  }
}

void Progress::report(bool final) {
  if (on_terminal_) {
    std::fprintf(stderr, "\r\033[K%s%s", status_line().c_str(), final ? "\n" : "");
    std::fflush(stderr);
  } else if (rank_ == 0) {
    spdlog::info("{}{}", status_line(), final ? " done" : "");
  } else {
    spdlog::debug("rank {}: {}{}", rank_, status_line(), final ? " done" : "");
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  report(true);
}

}  // namespace upm
