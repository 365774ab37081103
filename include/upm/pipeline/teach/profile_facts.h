#pragma once
// The sentence forms the rule-based teacher writes, as data:
//   "Likes comedy and history. Dislikes horror. Prefers concise answers in a
//    casual tone. Most active on reviews and assistant."
// Parsing them back lets the teacher read a previous profile (updates) and
// merge candidates as an informational set union; any other sentence is kept
// verbatim as an opaque fact, so a profile from another writer survives a
// merge without loss.

#include <string>
#include <vector>

namespace upm {

struct ProfileFacts {
  std::vector<std::string> likes, dislikes;  // topics, strongest first
  std::string verbosity;                     // "concise" | "detailed" | ""
  std::string tone;                          // "formal" | "casual" | ""
  std::vector<std::string> sources;          // most active first
  std::vector<std::string> other;            // sentences of no known form, verbatim
};

ProfileFacts parse_profile_facts(const std::string& profile);

// The profile text; "No clear preferences yet." when there is no fact.
std::string render_profile_facts(const ProfileFacts& facts);

// "a", "a and b", "a, b and c".
std::string join_with_and(const std::vector<std::string>& words);

}  // namespace upm
