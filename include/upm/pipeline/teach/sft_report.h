#pragma once
// The report of `upm-data build-sft`, computed from its candidates.jsonl and
// errors file (so a resumed run reports on every user, not only its own):
//   users     input (records + errors), with rows, rejected, errors, and
//             "dropped": per rule that drops users (too_few_targets,
//             merge_below_threshold), how many of the rejected it dropped;
//             present when the run has such a rule (`drop_rules`) or a record
//             names one
//   rows      total and per kind (profile, update), over users with status
//             ok (a dropped user's round-1 target makes no row)
//   rounds.N  per round: users, candidates, ok outputs, kept, pass rate
//             (kept / candidates), users with a target, merges attempted /
//             accepted / fallen back, and accuracy over the round's tasks
//             (micro average) of: no profile, the mean candidate, the best
//             single candidate per user, the merged profiles and the best
//             single candidate on the same users, and the targets.
// Markdown: the same figures as tables.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace upm {

nlohmann::json build_sft_report(const std::string& candidates_path, const std::string& errors_path,
                                const std::vector<std::string>& drop_rules = {});

std::string build_sft_report_markdown(const nlohmann::json& report);

}  // namespace upm
