#pragma once
// Progress of a long job: on a terminal, a redrawn bar with rate and ETA; in a
// log or CI, one info line every `log_interval_s` seconds. Among ranks
// (core/rank_env.h) only rank 0 reports; the others log at debug.

#include <chrono>
#include <cstdint>
#include <string>

namespace upm {

class Progress {
 public:
  // total <= 0 means unknown (no bar, no ETA).
  Progress(std::string label, int64_t total, std::string unit, double log_interval_s = 10.0);
  ~Progress();

  void advance(int64_t n = 1);
  // Prints the final line (called by the destructor if not called before).
  void finish();

  int64_t done() const { return done_; }
  // Items per second since start.
  double rate() const;
  // The status line without terminal control characters.
  std::string status_line() const;

 private:
  void report(bool final);

  std::string label_;
  int64_t total_;
  std::string unit_;
  double log_interval_s_;
  int64_t done_ = 0;
  int rank_;
  bool on_terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_report_;
};

// "1h02m03s" / "4m05s" / "7s".
std::string format_duration(double seconds);

}  // namespace upm
