#include "upm/train/profile_reward.h"

#include "upm/text/tokenizer.h"
#include "upm/train/profile_judge.h"

namespace upm {

std::vector<ScoredOutput> score_outputs(const std::vector<RewardInput>& outputs, ProfileJudge& judge,
                                        const RewardConfig& config, const Tokenizer& tokenizer, uint64_t order_seed,
                                        RewardBatchStats* stats) {
  std::vector<ScoredOutput> scored(outputs.size());
  std::vector<PredictRequest> requests;
  std::vector<size_t> owner;  // output index of each request
  for (size_t i = 0; i < outputs.size(); ++i) {
    PolicyOutput parsed = parse_policy_output(outputs[i].text, config.require_think);
    ScoredOutput& s = scored[i];
    s.well_formed = parsed.well_formed;
    if (!parsed.well_formed) {
      s.terms = malformed_reward(config);
      continue;
    }
    s.profile = std::move(parsed.profile);
    s.profile_tokens = int64_t(tokenizer.count_tokens(s.profile));
    for (const auto& task : *outputs[i].tasks) {
      PredictRequest request;
      request.task = task;
      request.input = PredictInput::profile;
      request.profile = s.profile;
      requests.push_back(std::move(request));
      owner.push_back(i);
    }
  }
  const std::vector<Prediction> predictions = judge.judge(requests, order_seed);
  if (stats) stats->judge_requests += int64_t(requests.size());

  std::vector<std::vector<double>> task_scores(outputs.size());
  const bool hard = config.predictor_reward == "accuracy";
  for (size_t r = 0; r < predictions.size(); ++r) {
    ScoredOutput& s = scored[owner[r]];
    const Prediction& p = predictions[r];
    task_scores[owner[r]].push_back(hard ? (p.correct ? 1.0 : 0.0) : p.p_correct);
    ++s.tasks_judged;
    s.correct += p.correct ? 1 : 0;
    s.p_correct_sum += p.p_correct;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (scored[i].well_formed) scored[i].terms = combine_reward(task_scores[i], scored[i].profile_tokens, config);
  }
  return scored;
}

}  // namespace upm
