#pragma once
// Statistics of an evaluation: accuracy (or mean reward) with a percentile
// bootstrap confidence interval, overall and per group (source, task kind),
// and the ROC AUC of a score against a 0/1 label with its interval.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace upm {

struct Estimate {
  double mean = 0.0;
  double low = 0.0;   // lower end of the confidence interval
  double high = 0.0;  // upper end
  int64_t n = 0;
};

// Mean of `values` with a percentile bootstrap interval at `level` (0.95 =
// 95%) from `resamples` resamples drawn with a generator seeded `seed`.
// Deterministic for a seed. Empty input gives n = 0 and NaN bounds.
Estimate bootstrap_mean(const std::vector<double>& values, double level = 0.95, int resamples = 2000,
                        uint64_t seed = 0);

// Paired comparison: bootstrap interval of mean(a - b) over the same items
// (e.g. one task scored with two kinds of profile). a and b have equal length.
Estimate bootstrap_mean_difference(const std::vector<double>& a, const std::vector<double>& b, double level = 0.95,
                                   int resamples = 2000, uint64_t seed = 0);

// Per-group estimates: values[i] belongs to groups[i].
std::map<std::string, Estimate> bootstrap_by_group(const std::vector<double>& values,
                                                   const std::vector<std::string>& groups, double level = 0.95,
                                                   int resamples = 2000, uint64_t seed = 0);

// ROC AUC of `scores` against 0/1 `labels` (embedding_probe.h's roc_auc:
// ties count one half) with a percentile bootstrap interval over resampled
// items; a resample that lacks either class is drawn again. NaN (n = the
// item count) when either class is absent from the input.
Estimate bootstrap_auc(const std::vector<double>& scores, const std::vector<int>& labels, double level = 0.95,
                       int resamples = 2000, uint64_t seed = 0);

}  // namespace upm
