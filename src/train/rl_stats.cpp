#include "upm/train/rl_stats.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <torch/torch.h>

#include "upm/dist/process_group.h"

namespace upm {

void RlSums::add(const EpisodeBatch& batch) {
  for (size_t i = 0; i < batch.samples.size(); ++i) {
    const ScoredOutput& s = batch.scored[i];
    samples += 1;
    reward += s.terms.total;
    reward_sq += s.terms.total * s.terms.total;
    predictor += s.terms.predictor;
    format += s.terms.format;
    length += s.terms.length;
    streaming += s.terms.streaming;
    overlong += s.terms.overlong;
    truncated += batch.samples[i].truncated ? 1 : 0;
    well_formed += s.well_formed ? 1 : 0;
    tasks += double(batch.tasks[size_t(batch.samples[i].group)].size());
    tasks_judged += double(s.tasks_judged);
    correct += double(s.correct);
    p_correct += s.p_correct_sum;
    profile_tokens += double(s.profile_tokens);
    completion_tokens += double(batch.samples[i].tokens.size());
  }
  judge_requests += double(batch.judge_requests);
  add_groups(batch);
}

void RlSums::add_groups(const EpisodeBatch& batch) {
  size_t i = 0;
  while (i < batch.samples.size()) {
    const int64_t group = batch.samples[i].group;
    size_t end = i;
    while (end < batch.samples.size() && batch.samples[end].group == group) ++end;
    const double n = double(end - i);
    double sum = 0, sq = 0;
    std::set<std::vector<int64_t>> seen;
    for (size_t k = i; k < end; ++k) {
      sum += batch.rewards[k];
      sq += batch.rewards[k] * batch.rewards[k];
      seen.insert(batch.samples[k].tokens);
    }
    const double mean = sum / n, var = std::max(0.0, sq / n - mean * mean);
    groups += 1;
    group_std += std::sqrt(var);
    // Rewards are means of a few judge scores: equal up to rounding when equal.
    zero_std_groups += var < 1e-12 ? 1 : 0;
    distinct_samples += double(seen.size()) / n;
    i = end;
  }
}

void RlSums::sum_over_ranks(Distributed* dist) {
  if (!dist) return;
  std::vector<double*> fields{
      &samples,        &reward, &reward_sq,       &predictor, &format,           &length,         &streaming,
      &well_formed,    &tasks,  &tasks_judged,    &correct,   &p_correct,        &profile_tokens, &completion_tokens,
      &judge_requests, &groups, &zero_std_groups, &group_std, &distinct_samples, &overlong,       &truncated};
  std::vector<double> values;
  for (double* f : fields) values.push_back(*f);
  values = upm::sum_over_ranks(dist, std::move(values));
  for (size_t i = 0; i < fields.size(); ++i) *fields[i] = values[i];
}

nlohmann::json RlSums::metrics(const std::string& prefix) const {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const double mean = ratio(reward, samples);
  const double var = samples > 1 ? std::max(0.0, (reward_sq - samples * mean * mean) / (samples - 1)) : 0.0;
  nlohmann::json out;
  out[prefix + "reward_mean"] = mean;
  out[prefix + "reward_std"] = std::sqrt(var);
  out[prefix + "reward_predictor"] = ratio(predictor, samples);
  out[prefix + "reward_format"] = ratio(format, samples);
  out[prefix + "reward_length"] = ratio(length, samples);
  out[prefix + "reward_streaming"] = ratio(streaming, samples);
  out[prefix + "reward_overlong"] = ratio(overlong, samples);
  out[prefix + "truncated"] = ratio(truncated, samples);
  out[prefix + "format_ok"] = ratio(well_formed, samples);
  out[prefix + "predictor_accuracy"] = ratio(correct, tasks_judged);
  out[prefix + "predictor_p_correct"] = ratio(p_correct, tasks_judged);
  out[prefix + "accuracy"] = ratio(correct, tasks);
  out[prefix + "profile_tokens"] = ratio(profile_tokens, well_formed);
  out[prefix + "completion_tokens"] = ratio(completion_tokens, samples);
  out[prefix + "group_reward_std"] = ratio(group_std, groups);
  out[prefix + "frac_reward_zero_std"] = ratio(zero_std_groups, groups);
  out[prefix + "distinct_samples"] = ratio(distinct_samples, groups);
  return out;
}

}  // namespace upm
