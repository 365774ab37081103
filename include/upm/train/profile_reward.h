#pragma once
// Rewards of sampled policy outputs: each output is parsed
// (`<think>..</think> profile`); a malformed one gets the format penalty and
// is never shown to the judge; the profiles of the well-formed ones are
// judged on their user's tasks, all in one batched judge call, and the terms
// combined (rl_reward.h).

#include <cstdint>
#include <string>
#include <vector>

#include "upm/data/benchmark.h"
#include "upm/train/rl_reward.h"

namespace upm {

class ProfileJudge;
class Tokenizer;

struct RewardInput {
  std::string text;                                         // the generated output
  const std::vector<data::BenchmarkTask>* tasks = nullptr;  // tasks this output is rewarded on
};

struct ScoredOutput {
  RewardTerms terms;
  bool well_formed = false;
  std::string profile;         // the text after </think>
  int64_t profile_tokens = 0;  // by the policy's tokenizer
  int64_t tasks_judged = 0;    // 0 for a malformed output
  int64_t correct = 0;         // tasks the judge got right
  double p_correct_sum = 0.0;  // sum of P(correct) over judged tasks
};

struct RewardBatchStats {
  int64_t judge_requests = 0;  // (profile, task) pairs sent to the judge
};

std::vector<ScoredOutput> score_outputs(const std::vector<RewardInput>& outputs, ProfileJudge& judge,
                                        const RewardConfig& config, const Tokenizer& tokenizer, uint64_t order_seed,
                                        RewardBatchStats* stats = nullptr);

}  // namespace upm
