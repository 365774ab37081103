#pragma once
// Judges without a model, for RL tests that need to choose which groups have
// a reward spread.

#include <cstdint>
#include <string>
#include <vector>

#include "upm/infer/predictor.h"
#include "upm/train/profile_judge.h"

namespace upm::test {

// Users whose id ends in an even number ("u0", "u2", ...) get P(correct) 0
// whatever their profile; the others a value in [0, 1) hashed from the
// profile text (FNV-1a, so the same on every platform), so that their
// samples' rewards differ. Stateless: ranks on threads may share it.
class EvenUsersFlatJudge : public ProfileJudge {
 public:
  std::vector<Prediction> judge(const std::vector<PredictRequest>& requests, uint64_t) override {
    std::vector<Prediction> out;
    for (const auto& r : requests) {
      const std::string& id = r.task.user_id;
      const bool flat = !id.empty() && (id.back() - '0') % 2 == 0;
      uint64_t h = 1469598103934665603ULL;
      for (unsigned char c : r.profile) h = (h ^ c) * 1099511628211ULL;
      const double p = flat ? 0.0 : double(h % 1000) / 1000.0;
      Prediction pred;
      pred.probabilities.assign(r.task.options.size(), 0.0);
      pred.scores.assign(r.task.options.size(), 0.0);
      pred.p_correct = p;
      pred.correct = p > 0.5;
      out.push_back(pred);
    }
    return out;
  }
};

}  // namespace upm::test
