#include "upm/pipeline/eval/eval_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "upm/core/error.h"
#include "upm/core/random.h"
#include "upm/pipeline/embedding/embedding_probe.h"

namespace upm {

namespace {

// The q-quantile of sorted values, by linear interpolation (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  double position = q * static_cast<double>(sorted.size() - 1);
  auto below = static_cast<size_t>(std::floor(position));
  size_t above = std::min(below + 1, sorted.size() - 1);
  double weight = position - static_cast<double>(below);
  return sorted[below] * (1.0 - weight) + sorted[above] * weight;
}

}  // namespace

Estimate bootstrap_mean(const std::vector<double>& values, double level, int resamples, uint64_t seed) {
  Estimate out;
  out.n = static_cast<int64_t>(values.size());
  if (values.empty()) {
    out.mean = out.low = out.high = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  if (level <= 0.0 || level >= 1.0 || resamples < 1) {
    throw Error("bootstrap_mean: level must be in (0, 1) and resamples >= 1");
  }
  const size_t n = values.size();
  out.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  Rng rng(seed);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& mean : means) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += values[rng.below_unbiased(n)];
    mean = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  double tail = (1.0 - level) / 2.0;
  out.low = quantile(means, tail);
  out.high = quantile(means, 1.0 - tail);
  return out;
}

Estimate bootstrap_mean_difference(const std::vector<double>& a, const std::vector<double>& b, double level,
                                   int resamples, uint64_t seed) {
  if (a.size() != b.size()) throw Error("bootstrap_mean_difference: paired samples differ in length");
  std::vector<double> difference(a.size());
  for (size_t i = 0; i < a.size(); ++i) difference[i] = a[i] - b[i];
  return bootstrap_mean(difference, level, resamples, seed);
}

std::map<std::string, Estimate> bootstrap_by_group(const std::vector<double>& values,
                                                   const std::vector<std::string>& groups, double level, int resamples,
                                                   uint64_t seed) {
  if (values.size() != groups.size()) throw Error("bootstrap_by_group: one group per value needed");
  std::map<std::string, std::vector<double>> split;
  for (size_t i = 0; i < values.size(); ++i) split[groups[i]].push_back(values[i]);
  std::map<std::string, Estimate> out;
  for (const auto& [group, members] : split) out[group] = bootstrap_mean(members, level, resamples, seed);
  return out;
}

Estimate bootstrap_auc(const std::vector<double>& scores, const std::vector<int>& labels, double level, int resamples,
                       uint64_t seed) {
  if (scores.size() != labels.size()) throw Error("bootstrap_auc: one label per score expected");
  if (level <= 0.0 || level >= 1.0 || resamples < 1) {
    throw Error("bootstrap_auc: level must be in (0, 1) and resamples >= 1");
  }
  Estimate out;
  out.n = static_cast<int64_t>(scores.size());
  out.mean = roc_auc(scores, labels);
  if (!std::isfinite(out.mean)) {
    out.low = out.high = out.mean;
    return out;
  }
  const size_t n = scores.size();
  Rng rng(seed);
  std::vector<double> aucs;
  aucs.reserve(static_cast<size_t>(resamples));
  std::vector<double> s(n);
  std::vector<int> l(n);
  while (aucs.size() < static_cast<size_t>(resamples)) {
    for (size_t i = 0; i < n; ++i) {
      const size_t k = rng.below_unbiased(n);
      s[i] = scores[k];
      l[i] = labels[k];
    }
    const double auc = roc_auc(s, l);
    if (std::isfinite(auc)) aucs.push_back(auc);
  }
  std::sort(aucs.begin(), aucs.end());
  const double tail = (1.0 - level) / 2.0;
  out.low = quantile(aucs, tail);
  out.high = quantile(aucs, 1.0 - tail);
  return out;
}

}  // namespace upm
