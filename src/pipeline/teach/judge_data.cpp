#include "upm/pipeline/teach/judge_data.h"

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/random.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/text/sentences.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

// A non-empty proper subset of the sentences, kept in their order.
std::string partial_profile(const std::vector<std::string>& sentences, Rng& rng) {
  const size_t n = sentences.size();
  // Draw a mask that is neither empty nor full: uniform over the 2^n - 2 of them.
  const uint64_t masks = (uint64_t(1) << n) - 2;
  const uint64_t mask = 1 + rng.remainder(masks);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (!(mask >> i & 1)) continue;
    if (!out.empty()) out += ' ';
    out += sentences[i];
  }
  return out;
}

std::string draw_input(const JudgeDataConfig& c, bool has_profile, bool can_split, bool has_history, Rng& rng) {
  const std::vector<std::pair<std::string, double>> weights{
      {"full", has_profile ? c.full_profile_share : 0.0},
      {"partial", has_profile && can_split ? c.partial_profile_share : 0.0},
      {"history", has_history ? c.history_share : 0.0},
      {"none", c.none_share}};
  double total = 0;
  for (const auto& [name, w] : weights) total += w;
  if (total <= 0) return "";
  double u = rng.uniform_real(0.0, total);
  for (const auto& [name, w] : weights) {
    if (u < w) return name;
    u -= w;
  }
  return "none";
}

// What the predictor scores for the true option: its label (label mode) or
// its own text (continuation mode), after the answer prefix.
std::string answer_text(const PredictorConfig& predictor, const data::BenchmarkTask& shown) {
  const size_t k = size_t(shown.label);
  return predictor.answer_prefix + (predictor.mode == "label" ? scored_label(predictor, k) : shown.options[k]);
}

}  // namespace

JudgeRowsReport make_judge_rows(const std::vector<data::BenchmarkTask>& tasks,
                                const std::map<std::string, std::string>& profiles,
                                const std::map<std::string, data::UserLog>& histories,
                                const data::PromptBuilder& builder, const PredictorConfig& predictor,
                                const JudgeDataConfig& config, std::vector<nlohmann::json>& rows) {
  JudgeRowsReport report;
  for (const auto& task : tasks) {
    ++report.tasks;
    auto profile = profiles.find(task.user_id);
    auto history = histories.find(task.user_id);
    const bool has_profile = profile != profiles.end() && !profile->second.empty();
    if (!has_profile) ++report.skipped_no_profile;
    const std::vector<std::string> sentences =
        has_profile ? split_sentences(profile->second) : std::vector<std::string>{};
    // 2^n - 2 subsets must fit a 64-bit draw; longer profiles are only used whole.
    const bool can_split = sentences.size() >= 2 && sentences.size() < 60;
    for (int64_t copy = 0; copy < config.rows_per_task; ++copy) {
      const std::string key = task.task_id + "#" + std::to_string(copy);
      Rng rng(sequence_seed(config.seed, stable_hash(key)));
      const std::string input = draw_input(config, has_profile, can_split, history != histories.end(), rng);
      if (input.empty()) break;
      const auto order = shown_option_order(key, task.options.size(), config.seed, predictor.shuffle_options);
      const data::BenchmarkTask shown = shown_task(task, order);
      std::string prompt;
      if (input == "full") prompt = builder.predict(shown, profile->second).text;
      if (input == "partial") prompt = builder.predict(shown, partial_profile(sentences, rng)).text;
      if (input == "history") prompt = builder.predict_history(shown, history->second.events).text;
      if (input == "none") prompt = builder.predict_none(shown).text;
      rows.push_back({{"prompt", prompt},
                      {"completion", answer_text(predictor, shown)},
                      {"user_id", task.user_id},
                      {"task_id", task.task_id},
                      {"input", input}});
      ++report.rows;
      ++report.rows_by_input[input];
    }
  }
  return report;
}

std::map<std::string, std::string> read_profile_texts(const std::string& path) {
  std::map<std::string, std::string> profiles;
  JsonlReader reader(path);
  while (auto record = reader.next_strict()) {
    auto user = get_field<std::string>(*record, record->value, "user_id");
    profiles[user] = get_field<std::string>(*record, record->value, "profile");
  }
  return profiles;
}

JudgeRowsReport run_judge_rows(const JudgeRowsJob& job) {
  auto tokenizer = load_tokenizer(job.tokenizer);
  data::PromptBuilder builder(job.prompts, [&](std::string_view text) { return tokenizer->count_tokens(text); });
  std::vector<data::BenchmarkTask> tasks;
  for (const auto& path : job.tasks) {
    auto more = data::read_benchmark(path);
    tasks.insert(tasks.end(), more.begin(), more.end());
  }
  std::map<std::string, data::UserLog> histories;
  if (!job.histories.empty()) {
    for (auto& log : data::read_user_logs(job.histories)) histories[log.user_id] = std::move(log);
  }
  std::vector<nlohmann::json> rows;
  JudgeRowsReport report =
      make_judge_rows(tasks, read_profile_texts(job.profiles), histories, builder, job.predictor, job.rows, rows);
  std::string text;
  for (const auto& row : rows) text += row.dump() + "\n";
  write_file_atomic(job.output, text);
  spdlog::info("{}: {} rows from {} tasks ({} without a profile)", job.output, report.rows, report.tasks,
               report.skipped_no_profile);
  return report;
}

}  // namespace upm
