#pragma once
// Settings of the prompt builder (a config section, see core/config.h).
// Template names are relative to templates_dir unless absolute.

#include <cstdint>
#include <string>

#include "upm/core/config.h"
#include "upm/core/source_dir.h"

namespace upm::data {

struct PromptConfig {
  // "blind": the predict templates that leave the option list out
  // (predict*_blind.txt, for a predictor in continuation mode), applied
  // before the other keys, which still override.
  std::string preset;
  std::string templates_dir = source_dir() + "/configs/prompts";
  std::string profile_template = "profile.txt";                  // history -> profile
  std::string update_template = "update.txt";                    // previous profile + new events -> profile
  std::string predict_template = "predict.txt";                  // profile + task -> option
  std::string predict_history_template = "predict_history.txt";  // raw recent history + task (baseline)
  std::string predict_none_template = "predict_none.txt";        // task only (baseline)
  // Whole-prompt budgets in tokens of the model's tokenizer; the oldest events
  // are dropped first to fit (AlignXplore+ left-truncates prompts at 8k).
  int64_t max_prompt_tokens = 8192;
  int64_t max_predict_tokens = 8192;
  // A single text field (item, chosen, ...) is cut beyond this many bytes.
  int64_t max_field_chars = 1000;
  // What a missing previous profile reads as (AlignXplore+ wording).
  std::string empty_profile = "Not Provided.";

  // templates_dir joined with `name` unless `name` is absolute.
  std::string template_path(const std::string& name) const;
};

inline void apply_preset(PromptConfig& c) {
  if (c.preset != "blind") return;
  c.predict_template = "predict_blind.txt";
  c.predict_history_template = "predict_history_blind.txt";
  c.predict_none_template = "predict_none_blind.txt";
}

inline void describe(ConfigIO& io, PromptConfig& c) {
  io.field("preset", c.preset).one_of({"", "blind"});
  if (io.reading()) apply_preset(c);
  io.field("templates_dir", c.templates_dir);
  io.field("profile_template", c.profile_template);
  io.field("update_template", c.update_template);
  io.field("predict_template", c.predict_template);
  io.field("predict_history_template", c.predict_history_template);
  io.field("predict_none_template", c.predict_none_template);
  io.field("max_prompt_tokens", c.max_prompt_tokens).greater_than(0);
  io.field("max_predict_tokens", c.max_predict_tokens).greater_than(0);
  io.field("max_field_chars", c.max_field_chars).at_least(16);
  io.field("empty_profile", c.empty_profile);
}

}  // namespace upm::data
