#pragma once
// Training rows for profile writing: the profile prompt of a user's history,
// exactly as upm-profile renders it (data/prompt_builder.h), and a target
// `<think>NOTE</think>PROFILE` taken from a profiles file (synthetic truth, or
// any profiles JSONL), optionally degraded. Degraded targets make a *weak*
// writer on purpose: the demo's base model is pretrained on them so that the
// SFT (validated, merged teacher profiles) and RL stages have room to improve
// it, as an instruct model's zero-shot profiles leave room in AlignXplore+.
// Targets come either from a profiles file (e.g. the synthetic truth, which
// names latent preferences a short history may not show) or from the
// rule-based teacher reading the same history the prompt shows (a target the
// writer can actually read off its input).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/data/prompt_builder.h"
#include "upm/data/prompt_config.h"
#include "upm/data/user_log.h"
#include "upm/pipeline/teach/teacher_config.h"

namespace upm {

struct ProfileRowsConfig {
  double drop_sentence = 0.0;           // probability of leaving out each sentence (one is always kept)
  double swap_word = 0.0;               // probability of replacing each listed vocabulary word by another one
  std::vector<std::string> vocabulary;  // words that may be swapped (e.g. the synthetic topics)
  std::string think = "I look at the ratings, clicks, choices and posts.";  // the <think> note
  uint64_t seed = 0;
};

inline void describe(ConfigIO& io, ProfileRowsConfig& c) {
  io.field("drop_sentence", c.drop_sentence).at_least(0.0).at_most(1.0);
  io.field("swap_word", c.swap_word).at_least(0.0).at_most(1.0);
  io.field("vocabulary", c.vocabulary);
  io.field("think", c.think);
  io.field("seed", c.seed);
}

// `profile` with sentences dropped and vocabulary words swapped, seeded by (seed, user_id).
std::string degrade_profile(const std::string& profile, const std::string& user_id, const ProfileRowsConfig& config);

// One {"prompt", "completion", "user_id"} row per log whose user has a profile.
std::vector<nlohmann::json> make_profile_rows(const std::vector<data::UserLog>& logs,
                                              const std::map<std::string, std::string>& profiles,
                                              const data::PromptBuilder& builder, const ProfileRowsConfig& config);

// `upm-data profile-rows --config F`.
struct ProfileRowsJob {
  std::string histories;             // user log JSONL
  std::string targets = "profiles";  // "profiles": the profiles file; "rule": the rule-based teacher on the history
  std::string profiles;              // JSONL with "user_id" and "profile" (targets = profiles)
  RuleTeacherConfig rule;            // targets = rule
  int64_t rule_candidates = 1;       // the target is rule candidate k, k drawn per user in [0, rule_candidates)
  std::string tokenizer;             // prompt budgets are counted in its tokens
  std::string output;
  bool synth_vocabulary = false;  // add the synthetic world's topic names to rows.vocabulary
  data::PromptConfig prompts;
  ProfileRowsConfig rows;
};

inline void describe(ConfigIO& io, ProfileRowsJob& c) {
  io.field("histories", c.histories).required();
  io.field("targets", c.targets).one_of({"profiles", "rule"});
  io.field("profiles", c.profiles);
  io.section("rule", c.rule);
  io.field("rule_candidates", c.rule_candidates).greater_than(0);
  if (io.reading() && c.targets == "profiles" && c.profiles.empty())
    io.fail("profiles", "required for targets profiles");
  io.field("tokenizer", c.tokenizer).required();
  io.field("output", c.output).required();
  io.field("synth_vocabulary", c.synth_vocabulary);
  io.section("prompts", c.prompts);
  io.section("rows", c.rows);
}

// Each log's rule-teacher profile (no <think>): candidate k of RuleBasedTeacher,
// k drawn per user (seeded by `seed` and the user id) in [0, candidates).
std::map<std::string, std::string> rule_profiles(const std::vector<data::UserLog>& logs, const RuleTeacherConfig& rule,
                                                 int64_t candidates, uint64_t seed);

int64_t run_profile_rows(const ProfileRowsJob& job);

}  // namespace upm
