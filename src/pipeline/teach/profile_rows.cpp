#include "upm/pipeline/teach/profile_rows.h"

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/random.h"
#include "upm/data/synth.h"
#include "upm/pipeline/teach/judge_data.h"
#include "upm/pipeline/teach/rule_based_teacher.h"
#include "upm/text/sentences.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Replaces whole-word occurrences of vocabulary words, each with probability p.
std::string swap_words(std::string text, const std::vector<std::string>& vocabulary, double p, Rng& rng) {
  if (vocabulary.size() < 2 || p <= 0) return text;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t best = 0;
    for (size_t w = 0; w < vocabulary.size(); ++w) {
      const std::string& word = vocabulary[w];
      const bool starts = (i == 0 || !is_word_char(text[i - 1])) && text.compare(i, word.size(), word) == 0;
      const bool ends = i + word.size() == text.size() || !is_word_char(text[i + word.size()]);
      if (starts && ends && word.size() > best) best = word.size();
    }
    if (best == 0) {
      out += text[i++];
      continue;
    }
    std::string word = text.substr(i, best);
    if (rng.canonical() < p) {
      std::string other = word;
      while (other == word) other = vocabulary[rng.remainder(vocabulary.size())];
      word = other;
    }
    out += word;
    i += best;
  }
  return out;
}

}  // namespace

std::string degrade_profile(const std::string& profile, const std::string& user_id, const ProfileRowsConfig& config) {
  Rng rng(sequence_seed(config.seed, stable_hash(user_id)));
  const std::vector<std::string> sentences = split_sentences(profile);
  std::vector<std::string> kept;
  for (const auto& s : sentences) {
    if (rng.canonical() >= config.drop_sentence) kept.push_back(s);
  }
  if (kept.empty() && !sentences.empty()) kept.push_back(sentences[rng.remainder(sentences.size())]);
  std::string out;
  for (const auto& s : kept) out += (out.empty() ? "" : " ") + s;
  return swap_words(out, config.vocabulary, config.swap_word, rng);
}

std::vector<nlohmann::json> make_profile_rows(const std::vector<data::UserLog>& logs,
                                              const std::map<std::string, std::string>& profiles,
                                              const data::PromptBuilder& builder, const ProfileRowsConfig& config) {
  std::vector<nlohmann::json> rows;
  for (const auto& log : logs) {
    auto profile = profiles.find(log.user_id);
    if (profile == profiles.end() || log.events.empty()) continue;
    rows.push_back(
        {{"prompt", builder.profile(log).text},
         {"completion", "<think>" + config.think + "</think>" + degrade_profile(profile->second, log.user_id, config)},
         {"user_id", log.user_id}});
  }
  return rows;
}

std::map<std::string, std::string> rule_profiles(const std::vector<data::UserLog>& logs, const RuleTeacherConfig& rule,
                                                 int64_t candidates, uint64_t seed) {
  RuleBasedTeacher teacher(rule);
  std::map<std::string, std::string> profiles;
  for (const auto& log : logs) {
    TeacherRequest request;
    request.user_id = log.user_id;
    request.events = log.events;
    request.candidates = candidates;
    request.seed = seed;
    const auto k = int64_t((stable_hash(log.user_id + "#candidate") ^ seed) % uint64_t(candidates));
    const TeacherOutput out = teacher_output_from_text(teacher.candidate_text(request, k));
    if (out.ok) profiles[log.user_id] = out.profile;
  }
  return profiles;
}

int64_t run_profile_rows(const ProfileRowsJob& job) {
  auto tokenizer = load_tokenizer(job.tokenizer);
  data::PromptBuilder builder(job.prompts, [&](std::string_view text) { return tokenizer->count_tokens(text); });
  ProfileRowsConfig config = job.rows;
  if (job.synth_vocabulary) {
    const auto& topics = data::synth_topics();
    config.vocabulary.insert(config.vocabulary.end(), topics.begin(), topics.end());
  }
  const auto logs = data::read_user_logs(job.histories);
  const auto targets = job.targets == "rule" ? rule_profiles(logs, job.rule, job.rule_candidates, job.rows.seed)
                                             : read_profile_texts(job.profiles);
  const auto rows = make_profile_rows(logs, targets, builder, config);
  std::string text;
  for (const auto& row : rows) text += row.dump() + "\n";
  write_file_atomic(job.output, text);
  spdlog::info("{}: {} profile rows", job.output, rows.size());
  return int64_t(rows.size());
}

}  // namespace upm
