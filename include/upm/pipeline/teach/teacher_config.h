#pragma once
// Settings of the teachers of `upm-data build-sft` (a config section, see
// core/config.h) and the factory that builds the chosen backend.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/infer/generation_config.h"
#include "upm/infer/language_model.h"
#include "upm/model/model_runtime.h"
#include "upm/openai/openai_client.h"

namespace upm {

class Teacher;

// The statistical teacher (rule_based_teacher.h).
struct RuleTeacherConfig {
  double min_score = 1.0;        // |net topic score| needed to call a topic liked / disliked
  double relative_min = 0.5;     // ... and at least this share of the strongest topic's score
  int64_t max_topics = 3;        // liked (and disliked) topics named at most
  double click_weight = 0.5;     // a click's vote for its item's topics (a rating counts -1..+1)
  double text_weight = 2.0;      // an explicit statement ("I can't stand horror.")
  double previous_weight = 1.5;  // a topic named by the previous profile (updates)
  double subsample = 0.8;        // share of events each candidate after the first reads
  double style_margin = 1.0;     // votes one answer style needs over the other
  // Votes one tone needs over the other; 0 = style_margin. A cautious tone
  // (2: one stated preference, not one chosen answer) leaves tone that only
  // choices show to whatever reads the histories after the teacher (RL).
  double tone_margin = 0.0;
  // Ratings vote against the mean of the read events' ratings instead of the
  // scale's midpoint (event_statistics.h VoteWeights::center_ratings).
  bool center_ratings = false;
};

inline void describe(ConfigIO& io, RuleTeacherConfig& c) {
  io.field("min_score", c.min_score).greater_than(0.0);
  io.field("relative_min", c.relative_min).at_least(0.0).at_most(1.0);
  io.field("max_topics", c.max_topics).greater_than(0);
  io.field("click_weight", c.click_weight).at_least(0.0);
  io.field("text_weight", c.text_weight).at_least(0.0);
  io.field("previous_weight", c.previous_weight).at_least(0.0);
  io.field("subsample", c.subsample).greater_than(0.0).at_most(1.0);
  io.field("style_margin", c.style_margin).greater_than(0.0);
  io.field("tone_margin", c.tone_margin).at_least(0.0);
  io.field("center_ratings", c.center_ratings);
}

// A UPM model folder, sampled (local_teacher.h).
struct LocalTeacherConfig {
  std::string model;  // model folder
  ModelRuntime runtime;
  PromptFormat prompt_format;
  GenerationConfig generation = sampled_defaults();

  static GenerationConfig sampled_defaults() {
    GenerationConfig g;
    g.sampling.temperature = 1.0;  // K candidates need diversity (AlignXplore+ samples at 1.0)
    g.max_new_tokens = 512;
    g.max_batch_sequences = 8;  // candidates decoded together
    return g;
  }
};

inline void describe(ConfigIO& io, LocalTeacherConfig& c) {
  io.field("model", c.model);
  io.section("runtime", c.runtime);
  io.section("prompt_format", c.prompt_format);
  io.section("generation", c.generation);
  // An empty candidate is never a success (local_teacher.h): fail at load.
  if (io.reading() && c.generation.max_new_tokens < 1) io.fail("generation.max_new_tokens", "must be > 0");
}

// An OpenAI-compatible endpoint (http_teacher.h).
struct HttpTeacherConfig {
  openai::OpenAIClientConfig client;  // base_url, model, api_key_env, timeout_s, max_retries, backoff_s, concurrency
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t max_tokens = 1024;
  bool use_n = true;          // K candidates as one request with "n": K (false: K requests, seeds seed..seed+K-1)
  std::string system_prompt;  // "" = none
};

inline void describe(ConfigIO& io, HttpTeacherConfig& c) {
  describe(io, c.client);  // at the same level: teacher.http.base_url, ...
  io.field("temperature", c.temperature).at_least(0.0);
  io.field("top_p", c.top_p).greater_than(0.0).at_most(1.0);
  io.field("max_tokens", c.max_tokens).greater_than(0);
  io.field("use_n", c.use_n);
  io.field("system_prompt", c.system_prompt);
}

struct TeacherConfig {
  std::string kind = "rule";  // rule | local | http
  int64_t candidates = 4;     // K per user and round
  uint64_t seed = 0;          // mixed with the user id and the round
  // Show the teacher one of the user's later tasks, its options but never
  // its answer (AlignXplore+'s guiding example; teacher_guide.h); that task
  // then does not validate. LM teachers only.
  bool guiding_example = false;
  std::string guide_template = "teacher_guide.txt";  // {{prompt}} + the example
  std::string merge_template = "merge.txt";          // kept candidates -> one profile
  RuleTeacherConfig rule;
  LocalTeacherConfig local;
  HttpTeacherConfig http;
  nlohmann::json unused_http;  // an "http" section while kind is not http: kept, unchecked
};

inline void describe(ConfigIO& io, TeacherConfig& c) {
  io.field("kind", c.kind).one_of({"rule", "local", "http"});
  io.field("candidates", c.candidates).greater_than(0);
  io.field("seed", c.seed);
  io.field("guiding_example", c.guiding_example);
  io.field("guide_template", c.guide_template);
  io.field("merge_template", c.merge_template);
  io.section("rule", c.rule);
  io.section("local", c.local);
  // base_url and model are required only when the endpoint is used.
  if (!io.reading() || c.kind == "http")
    io.section("http", c.http);
  else
    io.field("http", c.unused_http);
  if (io.reading() && c.kind == "local" && c.local.model.empty()) io.fail("local.model", "required for kind local");
}

// The backend named by config.kind. Prompt templates are resolved by the caller.
std::unique_ptr<Teacher> make_teacher(const TeacherConfig& config);

}  // namespace upm
