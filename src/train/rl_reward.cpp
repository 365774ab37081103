#include "upm/train/rl_reward.h"

#include <algorithm>
#include <numeric>

#include "upm/core/error.h"

namespace upm {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

std::string_view trim(std::string_view s) {
  const char* space = " \t\r\n";
  auto begin = s.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(space);
  return s.substr(begin, end - begin + 1);
}

PolicyOutput malformed(std::string problem) {
  PolicyOutput out;
  out.problem = std::move(problem);
  return out;
}

}  // namespace

PolicyOutput parse_policy_output(std::string_view text, bool require_think) {
  std::string_view rest = trim(text);
  PolicyOutput out;
  if (rest.substr(0, kOpen.size()) == kOpen) {
    auto close = rest.find(kClose);
    if (close == std::string_view::npos) return malformed("<think> is never closed");
    std::string_view inside = rest.substr(kOpen.size(), close - kOpen.size());
    if (inside.find(kOpen) != std::string_view::npos) return malformed("nested <think>");
    out.reasoning = std::string(trim(inside));
    rest = trim(rest.substr(close + kClose.size()));
  } else if (require_think) {
    return malformed("output must start with <think>");
  }
  if (rest.find(kOpen) != std::string_view::npos || rest.find(kClose) != std::string_view::npos) {
    return malformed("think tags after the profile");
  }
  if (rest.empty()) return malformed("empty profile");
  out.profile = std::string(rest);
  out.well_formed = true;
  return out;
}

void describe(ConfigIO& io, RewardConfig& c) {
  io.field("predictor_reward", c.predictor_reward).one_of({"confidence", "accuracy"});
  io.field("predictor_weight", c.predictor_weight).at_least(0.0);
  io.field("format_penalty", c.format_penalty).at_most(0.0);
  io.field("length_weight", c.length_weight).at_least(0.0);
  io.field("min_profile_tokens", c.min_profile_tokens).at_least(0);
  io.field("max_profile_tokens", c.max_profile_tokens).at_least(1);
  io.field("require_think", c.require_think);
  io.field("seed_share", c.seed_share).at_least(0.0);
  io.field("other_share", c.other_share).at_least(0.0);
  io.field("streaming_credit", c.streaming_credit).one_of({"share", "constant"});
  io.field("overlong_buffer_tokens", c.overlong_buffer_tokens).at_least(0);
  io.field("overlong_penalty", c.overlong_penalty).at_least(0.0);
  io.field("kl_coef", c.kl_coef).at_least(0.0);
  io.field("kl_estimator", c.kl_estimator).one_of({"k1", "k2", "k3"});
  if (io.reading() && c.min_profile_tokens > c.max_profile_tokens) {
    io.fail("min_profile_tokens", "must be <= max_profile_tokens");
  }
}

double length_term(int64_t profile_tokens, const RewardConfig& config) {
  const double scale = static_cast<double>(config.max_profile_tokens);
  if (profile_tokens > config.max_profile_tokens) {
    return -static_cast<double>(profile_tokens - config.max_profile_tokens) / scale;
  }
  if (profile_tokens < config.min_profile_tokens) {
    return -static_cast<double>(config.min_profile_tokens - profile_tokens) / scale;
  }
  return 0.0;
}

RewardTerms combine_reward(const std::vector<double>& task_scores, int64_t profile_tokens, const RewardConfig& config) {
  RewardTerms terms;
  if (!task_scores.empty()) {
    terms.predictor =
        std::accumulate(task_scores.begin(), task_scores.end(), 0.0) / static_cast<double>(task_scores.size());
  }
  terms.length = length_term(profile_tokens, config);
  terms.total = config.predictor_weight * terms.predictor + config.length_weight * terms.length;
  return terms;
}

RewardTerms malformed_reward(const RewardConfig& config) {
  RewardTerms terms;
  terms.format = config.format_penalty;
  terms.total = config.format_penalty;
  return terms;
}

void add_streaming_credit(std::vector<RewardTerms>& stage1, int64_t seeded, double stage2_mean,
                          const RewardConfig& config) {
  if (seeded < 0 || seeded >= static_cast<int64_t>(stage1.size())) {
    throw Error("add_streaming_credit: seeded sample " + std::to_string(seeded) + " out of range");
  }
  for (int64_t i = 0; i < static_cast<int64_t>(stage1.size()); ++i) {
    if (i == seeded) {
      stage1[i].streaming = config.seed_share * stage2_mean;
    } else {
      stage1[i].streaming =
          config.streaming_credit == "constant" ? config.other_share : config.other_share * stage2_mean;
    }
    stage1[i].total += stage1[i].streaming;
  }
}

double overlong_term(int64_t tokens, int64_t max_new_tokens, const RewardConfig& config) {
  if (config.overlong_buffer_tokens <= 0) return 0.0;
  const int64_t free_until = max_new_tokens - config.overlong_buffer_tokens;
  if (tokens <= free_until) return 0.0;
  const double over = static_cast<double>(std::min(tokens, max_new_tokens) - free_until);
  return -config.overlong_penalty * over / static_cast<double>(config.overlong_buffer_tokens);
}

void add_overlong_term(RewardTerms& terms, int64_t tokens, int64_t max_new_tokens, const RewardConfig& config) {
  terms.overlong = overlong_term(tokens, max_new_tokens, config);
  terms.total += terms.overlong;
}

}  // namespace upm
