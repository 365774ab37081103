#include "upm/pipeline/teach/profile_facts.h"

#include "upm/pipeline/profile/profile_text.h"
#include "upm/text/sentences.h"

namespace upm {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// "a, b and c" -> {a, b, c}.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::string rest = list;
  for (;;) {
    size_t comma = rest.find(", "), and_pos = rest.find(" and ");
    size_t cut = std::min(comma, and_pos);
    if (cut == std::string::npos) break;
    if (auto item = trim_text(rest.substr(0, cut)); !item.empty()) out.push_back(item);
    rest = rest.substr(cut + (cut == comma ? 2 : 5));
  }
  if (auto item = trim_text(rest); !item.empty()) out.push_back(item);
  return out;
}

std::string without_period(const std::string& sentence) {
  return sentence.empty() || sentence.back() != '.' ? sentence : sentence.substr(0, sentence.size() - 1);
}

// "Prefers concise answers in a casual tone" / "Prefers concise answers" / "Prefers a casual tone".
bool parse_style(const std::string& body, ProfileFacts& facts) {
  std::string verbosity, tone;
  for (const char* v : {"concise", "detailed"}) {
    if (starts_with(body, std::string(v) + " answers")) verbosity = v;
  }
  for (const char* t : {"formal", "casual"}) {
    if (body.find("a " + std::string(t) + " tone") != std::string::npos) tone = t;
  }
  if (verbosity.empty() && tone.empty()) return false;
  facts.verbosity = verbosity;
  facts.tone = tone;
  return true;
}

}  // namespace

std::string join_with_and(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == words.size() ? " and " : ", ") + words[i];
  }
  return out;
}

ProfileFacts parse_profile_facts(const std::string& profile) {
  ProfileFacts facts;
  for (const auto& piece : split_sentences(profile)) {
    const std::string sentence = trim_text(piece);
    if (sentence.empty()) continue;
    const std::string body = without_period(sentence);
    if (starts_with(body, "Likes ")) {
      facts.likes = split_list(body.substr(6));
    } else if (starts_with(body, "Dislikes ")) {
      facts.dislikes = split_list(body.substr(9));
    } else if (starts_with(body, "Prefers ") && parse_style(body.substr(8), facts)) {
    } else if (starts_with(body, "Most active on ")) {
      facts.sources = split_list(body.substr(15));
    } else if (sentence != "No clear preferences yet.") {
      facts.other.push_back(sentence);
    }
  }
  return facts;
}

std::string render_profile_facts(const ProfileFacts& facts) {
  std::vector<std::string> parts;
  if (!facts.likes.empty()) parts.push_back("Likes " + join_with_and(facts.likes) + ".");
  if (!facts.dislikes.empty()) parts.push_back("Dislikes " + join_with_and(facts.dislikes) + ".");
  if (!facts.verbosity.empty() && !facts.tone.empty()) {
    parts.push_back("Prefers " + facts.verbosity + " answers in a " + facts.tone + " tone.");
  } else if (!facts.verbosity.empty()) {
    parts.push_back("Prefers " + facts.verbosity + " answers.");
  } else if (!facts.tone.empty()) {
    parts.push_back("Prefers a " + facts.tone + " tone.");
  }
  if (!facts.sources.empty()) parts.push_back("Most active on " + join_with_and(facts.sources) + ".");
  for (const auto& s : facts.other) parts.push_back(s);
  if (parts.empty()) return "No clear preferences yet.";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

}  // namespace upm
