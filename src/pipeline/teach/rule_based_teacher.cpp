#include "upm/pipeline/teach/rule_based_teacher.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "upm/core/random.h"
#include "upm/pipeline/teach/event_statistics.h"
#include "upm/pipeline/teach/profile_facts.h"

namespace upm {

namespace {

// How one candidate reads the evidence.
struct CandidateKnobs {
  double subsample = 1.0;
  double min_score = 1.0;
  double relative_min = 0.5;
  int64_t max_topics = 3;
  bool style = true;
  bool sources = false;
};

CandidateKnobs knobs_for(const RuleTeacherConfig& config, int64_t k, Rng& rng) {
  CandidateKnobs knobs;
  knobs.min_score = config.min_score;
  knobs.max_topics = config.max_topics;
  knobs.relative_min = config.relative_min;
  if (k == 0) return knobs;  // the plain reading
  knobs.subsample = config.subsample;
  knobs.min_score = config.min_score * (0.5 + rng.uniform());
  knobs.max_topics = 1 + int64_t(rng.below(uint64_t(config.max_topics)));
  knobs.relative_min = config.relative_min * (0.5 + rng.uniform());
  knobs.style = rng.chance(0.8);
  knobs.sources = rng.chance(0.5);
  return knobs;
}

std::vector<data::Event> subsample(const std::vector<data::Event>& events, double share, Rng& rng) {
  if (share >= 1.0) return events;
  std::vector<data::Event> out;
  for (const auto& e : events) {
    if (rng.chance(share)) out.push_back(e);
  }
  if (out.empty() && !events.empty()) out.push_back(events[rng.below(events.size())]);
  return out;
}

void add_previous(const std::string& previous, double weight, EventStatistics& stats, ProfileFacts& facts) {
  if (previous.empty()) return;
  const ProfileFacts before = parse_profile_facts(previous);
  for (const auto& t : before.likes) add_topic_vote(stats, t, weight);
  for (const auto& t : before.dislikes) add_topic_vote(stats, t, -weight);
  if (before.verbosity == "concise") stats.concise += weight;
  if (before.verbosity == "detailed") stats.detailed += weight;
  if (before.tone == "formal") stats.formal += weight;
  if (before.tone == "casual") stats.casual += weight;
  facts.other = before.other;  // statements it cannot weigh are kept as they were
}

// Topics whose net score has `sign` and magnitude >= min_score, strongest first.
std::vector<std::string> ranked_topics(const EventStatistics& stats, int sign, const CandidateKnobs& knobs) {
  double strongest = 0.0;
  for (const auto& [key, votes] : stats.topics) strongest = std::max(strongest, sign * votes.score);
  // A topic far weaker than the strongest one is noise of shared items.
  const double floor = std::max(knobs.min_score, knobs.relative_min * strongest);
  std::vector<std::pair<double, std::string>> picked;
  for (const auto& [key, votes] : stats.topics) {
    if (sign * votes.score >= floor) picked.push_back({sign * votes.score, key});
  }
  std::stable_sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < picked.size() && int64_t(i) < knobs.max_topics; ++i) {
    out.push_back(stats.topic_names.at(picked[i].second));
  }
  return out;
}

std::string pick_side(double a, double b, double margin, const char* name_a, const char* name_b) {
  if (a - b >= margin) return name_a;
  if (b - a >= margin) return name_b;
  return "";
}

std::vector<std::string> top_sources(const EventStatistics& stats) {
  std::vector<std::pair<int, std::string>> counts;
  for (const auto& [source, n] : stats.sources) counts.push_back({n, source});
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < counts.size() && i < 2; ++i) out.push_back(counts[i].second);
  return out;
}

// Majority vote; a tie goes to the first (best) candidate's value.
std::string majority(const std::vector<std::string>& values) {
  std::map<std::string, int> counts;
  for (const auto& v : values) {
    if (!v.empty()) ++counts[v];
  }
  std::string best;
  int best_count = 0;
  for (const auto& v : values) {
    if (!v.empty() && counts[v] > best_count) best = v, best_count = counts[v];
  }
  return best;
}

void append_unique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

std::string RuleBasedTeacher::candidate_text(const TeacherRequest& request, int64_t k) const {
  Rng rng(stable_hash(request.user_id, request.seed) ^ (0x9E3779B97F4A7C15ull * uint64_t(k + 1)));
  const CandidateKnobs knobs = knobs_for(config_, k, rng);
  const auto events = subsample(request.events, knobs.subsample, rng);
  EventStatistics stats =
      tally_events(events, VoteWeights{config_.click_weight, config_.text_weight, config_.center_ratings});
  ProfileFacts facts;
  add_previous(request.previous_profile, config_.previous_weight, stats, facts);
  facts.likes = ranked_topics(stats, +1, knobs);
  facts.dislikes = ranked_topics(stats, -1, knobs);
  if (knobs.style) {
    facts.verbosity = pick_side(stats.concise, stats.detailed, config_.style_margin, "concise", "detailed");
    const double tone_margin = config_.tone_margin > 0 ? config_.tone_margin : config_.style_margin;
    facts.tone = pick_side(stats.formal, stats.casual, tone_margin, "formal", "casual");
  }
  if (knobs.sources) facts.sources = top_sources(stats);
  char knob_text[160];
  std::snprintf(knob_text, sizeof knob_text,
                " Candidate %lld: %d of %zu events, topics need |score| >= %.2f, at most %lld each way.",
                static_cast<long long>(k), stats.events, request.events.size(), knobs.min_score,
                static_cast<long long>(knobs.max_topics));
  const std::string previous = request.previous_profile.empty() ? "" : " The previous profile counted as votes.";
  return "<think>" + describe_statistics(stats) + previous + knob_text + "</think>\n\n" + render_profile_facts(facts);
}

std::string RuleBasedTeacher::merged_text(const std::vector<std::string>& profiles) {
  std::vector<ProfileFacts> all;
  for (const auto& p : profiles) all.push_back(parse_profile_facts(p));
  // Net mentions per topic (liked +1, disliked -1), in order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, int> net, mentions;
  for (const auto& f : all) {
    for (const auto& t : f.likes) append_unique(order, t), ++net[t], ++mentions[t];
    for (const auto& t : f.dislikes) append_unique(order, t), --net[t], ++mentions[t];
  }
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return mentions[a] > mentions[b]; });
  ProfileFacts merged;
  for (const auto& t : order) {
    if (net[t] > 0) merged.likes.push_back(t);
    if (net[t] < 0) merged.dislikes.push_back(t);
  }
  std::vector<std::string> verbosity, tone;
  for (const auto& f : all) {
    verbosity.push_back(f.verbosity);
    tone.push_back(f.tone);
    for (const auto& s : f.sources) append_unique(merged.sources, s);
    for (const auto& s : f.other) append_unique(merged.other, s);
  }
  merged.verbosity = majority(verbosity);
  merged.tone = majority(tone);
  return "<think>Union of " + std::to_string(profiles.size()) +
         " validated candidates: every topic any of them names (majority where they disagree), the answer style most "
         "of them state.</think>\n\n" +
         render_profile_facts(merged);
}

std::vector<std::vector<TeacherOutput>> RuleBasedTeacher::generate(const std::vector<TeacherRequest>& requests) {
  std::vector<std::vector<TeacherOutput>> out;
  for (const auto& request : requests) {
    std::vector<TeacherOutput> candidates;
    for (int64_t k = 0; k < request.candidates; ++k) {
      candidates.push_back(teacher_output_from_text(candidate_text(request, k)));
    }
    out.push_back(std::move(candidates));
  }
  return out;
}

std::vector<TeacherOutput> RuleBasedTeacher::merge(const std::vector<MergeRequest>& requests) {
  std::vector<TeacherOutput> out;
  for (const auto& request : requests) out.push_back(teacher_output_from_text(merged_text(request.profiles)));
  return out;
}

}  // namespace upm
