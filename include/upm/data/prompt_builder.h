#pragma once
// Builds the three prompt kinds from the templates of PromptConfig:
//   profile  a user's events -> profile      {{events}} required;
//            optional {{user_id}}, {{num_events}}, {{num_dropped}}
//   update   previous profile + new events   {{previous_profile}}, {{events}} required;
//            optional {{user_id}}, {{num_events}}, {{num_dropped}}
//   predict  profile (or raw history, or nothing) + a task's context and
//            options labelled "Item A", "Item B", ...
//            {{context}} required, plus {{profile}} (predict) or {{history}}
//            (predict_history); optional {{options}}, {{labels}} ("Item A or
//            Item B"). Templates without {{options}} make a blind judge: it
//            scores each option's text as the continuation and never sees the
//            list (predictor continuation mode only).
// Events are rendered oldest first, one line each (event_format.h). When a
// prompt would exceed its token budget, the OLDEST events are dropped first
// and the count is recorded. Tokens are counted by a given function: in
// production the model's tokenizer (upm::Tokenizer::count_tokens), so the
// budget is exact for the model that reads the prompt.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "upm/data/benchmark.h"
#include "upm/data/prompt_config.h"
#include "upm/data/prompt_template.h"
#include "upm/data/user_log.h"

namespace upm::data {

using TokenCounter = std::function<std::size_t(std::string_view)>;

struct BuiltPrompt {
  std::string text;
  std::size_t tokens = 0;          // of `text`, by the builder's counter
  std::size_t events_total = 0;    // events offered
  std::size_t events_kept = 0;     // events rendered (the newest ones)
  std::size_t events_dropped = 0;  // oldest events left out for the budget
  bool fits = true;                // false if even with no events it exceeds the budget
};

// "Item A", "Item B", ... (the predictor's option labels); InputError past 26.
std::string option_label(std::size_t index);

// The task's options as prompts list them: "Item A: text" per line, each text
// on one line and cut to `max_field_chars`.
std::string option_list(const BenchmarkTask& task, std::size_t max_field_chars);

class PromptBuilder {
 public:
  // Loads and checks every template (InputError naming the file on a missing
  // or unknown placeholder).
  PromptBuilder(PromptConfig config, TokenCounter count_tokens);

  // `events` in log order; they are put in chronological order first.
  BuiltPrompt profile(const std::string& user_id, const std::vector<Event>& events) const;
  BuiltPrompt profile(const UserLog& log) const { return profile(log.user_id, log.events); }
  // An empty `previous_profile` reads as config.empty_profile.
  BuiltPrompt update(const std::string& user_id, const std::string& previous_profile,
                     const std::vector<Event>& new_events) const;

  BuiltPrompt predict(const BenchmarkTask& task, const std::string& profile) const;
  BuiltPrompt predict_history(const BenchmarkTask& task, const std::vector<Event>& history) const;
  BuiltPrompt predict_none(const BenchmarkTask& task) const;

  const PromptConfig& config() const { return config_; }
  // Whether all three predict templates show the options (label mode needs them).
  bool lists_options() const;

 private:
  // Renders `tmpl` with `values` plus the newest events that fit in `budget`
  // under placeholder `events_key`.
  BuiltPrompt fit_events(const PromptTemplate& tmpl, std::map<std::string, std::string> values,
                         const std::string& events_key, const std::vector<Event>& events, std::size_t budget) const;
  std::map<std::string, std::string> task_values(const BenchmarkTask& task) const;

  PromptConfig config_;
  TokenCounter count_tokens_;
  PromptTemplate profile_, update_, predict_, predict_history_, predict_none_;
};

}  // namespace upm::data
