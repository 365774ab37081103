#include "upm/pipeline/teach/candidate_merge.h"

#include "upm/core/error.h"

namespace upm {

size_t best_candidate(const std::vector<std::string>& profiles, const std::vector<ValidationScore>& scores,
                      const std::vector<size_t>& among) {
  if (among.empty()) throw Error("best_candidate: no candidate to choose from");
  size_t best = among[0];
  for (size_t i : among) {
    const auto& a = scores[i];
    const auto& b = scores[best];
    bool better = a.correct != b.correct                        ? a.correct > b.correct
                  : profiles[i].size() != profiles[best].size() ? profiles[i].size() < profiles[best].size()
                  : a.mean_p_correct != b.mean_p_correct        ? a.mean_p_correct > b.mean_p_correct
                                                                : i < best;
    if (better) best = i;
  }
  return best;
}

MergePrompt::MergePrompt(const std::string& template_path, std::string empty_profile)
    : template_(data::PromptTemplate::load(template_path)), empty_profile_(std::move(empty_profile)) {
  template_.check({"candidates", "num_candidates", "previous_profile", "user_id"}, {"candidates"});
}

std::string MergePrompt::render(const std::string& user_id, const std::vector<std::string>& profiles,
                                const std::string& previous_profile) const {
  std::string list;
  for (size_t i = 0; i < profiles.size(); ++i) {
    list += (i ? "\n\n" : "") + std::string("Profile ") + std::to_string(i + 1) + ":\n" + profiles[i];
  }
  return template_.render({{"candidates", list},
                           {"num_candidates", std::to_string(profiles.size())},
                           {"previous_profile", previous_profile.empty() ? empty_profile_ : previous_profile},
                           {"user_id", user_id}});
}

}  // namespace upm
