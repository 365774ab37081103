#pragma once
// Merge of the kept candidates into one target profile:
//   best_of  the best kept candidate: highest accuracy, then the shorter text
//            (a tie in accuracy prefers the more concise profile), then the
//            higher mean P(correct), then the lower index;
//   teacher  the merge prompt (configs/prompts/merge.txt: an informational
//            set union, every distinct supported detail, nothing invented)
//            sent to the teacher; its result is validated again and must
//            reach merge.min_accuracy. A merge that does not (or whose output
//            is malformed) is handled by merge.below_threshold:
//              best_single  the target falls back to best_of and the record
//                           says so;
//              drop_user    the user is dropped: no row at all, the record
//                           "rejected" with the reason (the published
//                           AlignXplore+ rule, with min_accuracy 0.8).
// With one kept candidate there is nothing to merge: it is the target.

#include <cstddef>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/data/prompt_template.h"
#include "upm/pipeline/teach/candidate_validation.h"

namespace upm {

struct MergeConfig {
  std::string kind = "best_of";                 // best_of | teacher
  double min_accuracy = 0.5;                    // a merged profile below this falls back to best_of
  std::string below_threshold = "best_single";  // best_single | drop_user
};

inline void describe(ConfigIO& io, MergeConfig& c) {
  io.field("kind", c.kind).one_of({"best_of", "teacher"});
  io.field("min_accuracy", c.min_accuracy).at_least(0.0).at_most(1.0);
  io.field("below_threshold", c.below_threshold).one_of({"best_single", "drop_user"});
}

// The best of `among` (indices into profiles / scores) by the order above.
size_t best_candidate(const std::vector<std::string>& profiles, const std::vector<ValidationScore>& scores,
                      const std::vector<size_t>& among);

// The merge prompt: {{candidates}} required ("Profile 1:\n...\n\nProfile 2:\n...");
// optional {{num_candidates}}, {{previous_profile}}, {{user_id}}.
class MergePrompt {
 public:
  // `empty_profile`: what a missing previous profile reads as.
  MergePrompt(const std::string& template_path, std::string empty_profile);
  std::string render(const std::string& user_id, const std::vector<std::string>& profiles,
                     const std::string& previous_profile) const;

 private:
  data::PromptTemplate template_;
  std::string empty_profile_;
};

}  // namespace upm
