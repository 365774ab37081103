#include "upm/data/prompt_builder.h"

#include "upm/core/error.h"
#include "upm/data/event_format.h"

namespace upm::data {

std::string PromptConfig::template_path(const std::string& name) const {
  if (!name.empty() && name[0] == '/') return name;
  return templates_dir + "/" + name;
}

std::string option_label(std::size_t index) {
  if (index >= 26)
    throw InputError("at most 26 options can be labelled Item A..Item Z, got option " + std::to_string(index + 1));
  return std::string("Item ") + static_cast<char>('A' + index);
}

namespace {

PromptTemplate load_checked(const PromptConfig& config, const std::string& name, std::set<std::string> required,
                            const std::set<std::string>& optional) {
  PromptTemplate t = PromptTemplate::load(config.template_path(name));
  std::set<std::string> known = required;
  known.insert(optional.begin(), optional.end());
  t.check(known, required);
  return t;
}

const std::set<std::string> kEventExtras{"user_id", "num_events", "num_dropped"};
// {{options}} is optional: a template without it gives a "blind" judge that
// scores each option's text as the continuation (predictor continuation mode)
// instead of choosing among listed options.
const std::set<std::string> kTaskExtras{"options", "labels", "user_id"};

}  // namespace

PromptBuilder::PromptBuilder(PromptConfig config, TokenCounter count_tokens)
    : config_(std::move(config)), count_tokens_(std::move(count_tokens)) {
  profile_ = load_checked(config_, config_.profile_template, {"events"}, kEventExtras);
  update_ = load_checked(config_, config_.update_template, {"previous_profile", "events"}, kEventExtras);
  predict_ = load_checked(config_, config_.predict_template, {"profile", "context"}, kTaskExtras);
  predict_history_ = load_checked(config_, config_.predict_history_template, {"history", "context"}, kTaskExtras);
  predict_none_ = load_checked(config_, config_.predict_none_template, {"context"}, kTaskExtras);
}

bool PromptBuilder::lists_options() const {
  for (const PromptTemplate* t : {&predict_, &predict_history_, &predict_none_}) {
    if (!t->placeholders().count("options")) return false;
  }
  return true;
}

BuiltPrompt PromptBuilder::fit_events(const PromptTemplate& tmpl, std::map<std::string, std::string> values,
                                      const std::string& events_key, const std::vector<Event>& events,
                                      std::size_t budget) const {
  const std::vector<Event> ordered = chronological(events);
  const std::size_t n = ordered.size();
  const auto max_chars = static_cast<std::size_t>(config_.max_field_chars);
  std::vector<std::string> lines;
  lines.reserve(n);
  for (const auto& e : ordered) lines.push_back(format_event(e, max_chars));
  // The newest `kept` events, oldest first.
  auto render = [&](std::size_t kept) {
    std::string block;
    for (std::size_t i = n - kept; i < n; ++i) block += (i == n - kept ? "" : "\n") + lines[i];
    values[events_key] = std::move(block);
    values["num_events"] = std::to_string(kept);
    values["num_dropped"] = std::to_string(n - kept);
    return tmpl.render(values);
  };
  // Estimate from per-line counts, newest first, then settle on the whole
  // text (a separator or a token merge across lines can shift the total).
  std::size_t total = count_tokens_(render(0));
  std::size_t kept = 0;
  while (kept < n) {
    std::size_t cost = count_tokens_(lines[n - 1 - kept]);
    if (total + cost > budget) break;
    total += cost;
    ++kept;
  }
  BuiltPrompt out;
  out.text = render(kept);
  out.tokens = count_tokens_(out.text);
  while (out.tokens > budget && kept > 0) {
    out.text = render(--kept);
    out.tokens = count_tokens_(out.text);
  }
  while (out.tokens <= budget && kept < n) {
    std::string bigger = render(kept + 1);
    std::size_t tokens = count_tokens_(bigger);
    if (tokens > budget) break;
    ++kept;
    out.text = std::move(bigger);
    out.tokens = tokens;
  }
  out.events_total = n;
  out.events_kept = kept;
  out.events_dropped = n - kept;
  out.fits = out.tokens <= budget;
  return out;
}

BuiltPrompt PromptBuilder::profile(const std::string& user_id, const std::vector<Event>& events) const {
  return fit_events(profile_, {{"user_id", user_id}}, "events", events,
                    static_cast<std::size_t>(config_.max_prompt_tokens));
}

BuiltPrompt PromptBuilder::update(const std::string& user_id, const std::string& previous_profile,
                                  const std::vector<Event>& new_events) const {
  std::string previous = previous_profile.empty() ? config_.empty_profile : previous_profile;
  return fit_events(update_, {{"user_id", user_id}, {"previous_profile", previous}}, "events", new_events,
                    static_cast<std::size_t>(config_.max_prompt_tokens));
}

std::string option_list(const BenchmarkTask& task, std::size_t max_field_chars) {
  std::string options;
  for (std::size_t i = 0; i < task.options.size(); ++i) {
    options += (i ? "\n" : "") + option_label(i) + ": " + one_line(task.options[i], max_field_chars);
  }
  return options;
}

std::map<std::string, std::string> PromptBuilder::task_values(const BenchmarkTask& task) const {
  std::string labels;
  for (std::size_t i = 0; i < task.options.size(); ++i) {
    labels += (i == 0 ? "" : i + 1 == task.options.size() ? " or " : ", ") + option_label(i);
  }
  return {{"user_id", task.user_id},
          {"context", task.context},
          {"options", option_list(task, static_cast<std::size_t>(config_.max_field_chars))},
          {"labels", labels}};
}

BuiltPrompt PromptBuilder::predict(const BenchmarkTask& task, const std::string& profile) const {
  auto values = task_values(task);
  values["profile"] = profile.empty() ? config_.empty_profile : profile;
  BuiltPrompt out;
  out.text = predict_.render(values);
  out.tokens = count_tokens_(out.text);
  out.fits = out.tokens <= static_cast<std::size_t>(config_.max_predict_tokens);
  return out;
}

BuiltPrompt PromptBuilder::predict_history(const BenchmarkTask& task, const std::vector<Event>& history) const {
  return fit_events(predict_history_, task_values(task), "history", history,
                    static_cast<std::size_t>(config_.max_predict_tokens));
}

BuiltPrompt PromptBuilder::predict_none(const BenchmarkTask& task) const {
  BuiltPrompt out;
  out.text = predict_none_.render(task_values(task));
  out.tokens = count_tokens_(out.text);
  out.fits = out.tokens <= static_cast<std::size_t>(config_.max_predict_tokens);
  return out;
}

}  // namespace upm::data
