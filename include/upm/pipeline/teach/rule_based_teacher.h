#pragma once
// A teacher without a model: it writes profiles from event statistics
// (event_statistics.h) in the sentence forms of profile_facts.h, e.g.
//   "Likes comedy and history. Dislikes horror. Prefers concise answers in a
//    casual tone. Most active on reviews and assistant."
// preceded by a <think> block that lists the votes it read.
//
// Its K candidates differ on purpose, so that validation has a choice:
// candidate 0 reads every event with the configured thresholds; candidate k > 0
// reads a seeded subset (rule.subsample of the events), a jittered score
// threshold, 1..max_topics topics, and names the answer style and the sources
// by seeded coin flips. The seed is the request's (per user and round), so a
// user's candidates are the same in every run and every batch.
// Updates: the previous profile's topics and style count as
// rule.previous_weight votes and its other sentences are carried over.
// Merge: an informational set union of the kept candidates (every topic any
// of them names, a topic named liked and disliked resolved by majority and
// dropped on a tie; style by majority, ties to the best candidate).

#include "upm/pipeline/teach/teacher.h"
#include "upm/pipeline/teach/teacher_config.h"

namespace upm {

class RuleBasedTeacher : public Teacher {
 public:
  explicit RuleBasedTeacher(RuleTeacherConfig config) : config_(config) {}

  std::vector<std::vector<TeacherOutput>> generate(const std::vector<TeacherRequest>& requests) override;
  std::vector<TeacherOutput> merge(const std::vector<MergeRequest>& requests) override;
  std::string name() const override { return "rule"; }

  // Candidate `k` of `request` as generated text ("<think>...</think>\n\nprofile").
  std::string candidate_text(const TeacherRequest& request, int64_t k) const;
  // The union of `profiles` (best first) as generated text.
  static std::string merged_text(const std::vector<std::string>& profiles);

 private:
  RuleTeacherConfig config_;
};

}  // namespace upm
