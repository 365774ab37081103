#pragma once
// Evaluation against held-out behavior (`upm-eval --config F`): for a
// benchmark (held-out tasks) and one or more predictors, accuracy and mean
// P(correct option) under each condition:
//   none      the predictor sees only the task
//   history   the user's most recent raw events, cut to `history_tokens`
//             tokens (set it to the profile length budget for a fair
//             comparison with profiles)
//   profiles  a profiles file (batch or streamed: the latest version per user
//             is used; a user without one reads the empty profile, counted)
// with percentile-bootstrap confidence intervals (eval_stats.h), overall and
// per task "source" and "kind" (benchmark extra fields), the paired difference
// of each condition against the first and of each listed comparison (e.g. RL
// profiles against SFT profiles: a paired interval over the same tasks is
// much narrower than the two conditions' own intervals), and writes into run_dir:
//   config.json (resolved), report.json, report.md (Markdown tables),
//   predictions.jsonl (one line per predictor x condition x task), chart.svg.
// With ranks (`upm-eval` under RANK / WORLD_SIZE, torchrun's variables), rank
// r scores the tasks at positions r, r + W, ... of every condition; the
// outcomes are summed over the ranks so that each computes the same report,
// and rank 0 writes the run directory, predictions in single-process order.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/data/prompt_config.h"
#include "upm/model/model_runtime.h"
#include "upm/infer/language_model.h"
#include "upm/infer/predictor.h"
#include "upm/infer/remote_predictor.h"

namespace upm {

class Distributed;

// One predictor: a local model folder, or a model behind an OpenAI-compatible
// endpoint (infer/remote_predictor.h), so that a profile written by one model
// is judged by another of any architecture.
struct PredictorSpec {
  std::string name;            // "" = the model folder's name, or the served model's (remote.model)
  std::string kind = "local";  // local: a model folder; remote: an OpenAI-compatible endpoint
  std::string model;           // local: the model folder
  ModelRuntime runtime;        // local
  PromptFormat prompt_format;  // local (an endpoint applies its own chat template)
  // remote: "remote" (an OpenAIClientConfig object: base_url, model,
  // api_key_env, timeout_s, max_retries, backoff_s, concurrency) and
  // "missing_label_logprob", the keys of upm-train rl's remote judge.
  RemotePredictorConfig endpoint;
  // remote: a tokenizer file or folder (the served model's) that counts the
  // history condition's history_tokens and the predict-history prompt's
  // budget; "" = none, and then no condition may be of kind history.
  std::string tokenizer;
  PredictorConfig predictor;
};

inline void describe(ConfigIO& io, PredictorSpec& s) {
  io.field("name", s.name);
  io.field("kind", s.kind).one_of({"local", "remote"});
  // Each kind's own keys: the resolved config writes only those, so that it
  // reads back, and reading refuses the other kind's (below).
  const bool reading = io.reading(), remote = s.kind == "remote";
  if (reading || !remote) {
    io.field("model", s.model);
    io.section("runtime", s.runtime);
    io.section("prompt_format", s.prompt_format);
  }
  if (reading || remote) {
    describe(io, s.endpoint);
    io.field("tokenizer", s.tokenizer);
  }
  describe(io, s.predictor);  // mode, seed, ... at the same level
  if (!reading) return;
  if (!remote) {
    if (s.model.empty()) io.report("model", "required but missing (the local predictor's model folder)");
    for (const char* key : {"remote", "missing_label_logprob", "tokenizer"}) {
      if (io.was_given(key)) io.report(key, "only for kind \"remote\" (this predictor is local)");
    }
    return;
  }
  for (const char* key : {"model", "runtime", "prompt_format"}) {
    if (io.was_given(key))
      io.report(key,
                "only for kind \"local\" (the endpoint serves its own model, remote.model, with its own "
                "chat template)");
  }
  check_remote_predictor(io, s.endpoint, s.predictor, "");
}

struct ConditionSpec {
  std::string name;               // "" = the kind
  std::string kind = "profiles";  // none | history | profiles
  std::string profiles;           // kind profiles: the file
  std::string history;            // kind history: user logs (events before the held-out ones)
  int64_t history_tokens = 1024;  // kind history: budget of the event lines
};

// A paired difference to report besides "each condition minus the first".
struct ComparisonSpec {
  std::string condition;  // a condition's name
  std::string baseline;   // the condition it is compared against
};

inline void describe(ConfigIO& io, ComparisonSpec& c) {
  io.field("condition", c.condition).required();
  io.field("baseline", c.baseline).required();
}

inline void describe(ConfigIO& io, ConditionSpec& c) {
  io.field("name", c.name);
  io.field("kind", c.kind).one_of({"none", "history", "profiles"});
  io.field("profiles", c.profiles);
  io.field("history", c.history);
  io.field("history_tokens", c.history_tokens).greater_than(0);
}

struct EvalConfig {
  std::string benchmark;  // benchmark JSONL
  std::string run_dir;    // where the report goes
  std::vector<PredictorSpec> predictors;
  std::vector<ConditionSpec> conditions;
  std::vector<ComparisonSpec> comparisons;  // extra paired differences (names from `conditions`)
  data::PromptConfig prompts;
  int64_t batch_tasks = 16;  // tasks per predictor call
  double ci_level = 0.95;
  int bootstrap_resamples = 2000;
  uint64_t bootstrap_seed = 0;
  std::vector<std::string> group_by = {"source", "kind"};  // benchmark fields broken down
  bool chart = true;                                       // chart.svg
};

inline void describe(ConfigIO& io, EvalConfig& c) {
  io.field("benchmark", c.benchmark).required();
  io.field("run_dir", c.run_dir).required();
  io.section_list("predictors", c.predictors);
  io.section_list("conditions", c.conditions);
  io.section_list("comparisons", c.comparisons);
  io.section("prompts", c.prompts);
  io.field("batch_tasks", c.batch_tasks).greater_than(0);
  io.field("ci_level", c.ci_level).greater_than(0.0).at_most(1.0);
  io.field("bootstrap_resamples", c.bootstrap_resamples).greater_than(0);
  io.field("bootstrap_seed", c.bootstrap_seed);
  io.field("group_by", c.group_by);
  io.field("chart", c.chart);
  if (!io.reading()) return;
  const bool any_history = std::any_of(c.conditions.begin(), c.conditions.end(),
                                       [](const ConditionSpec& condition) { return condition.kind == "history"; });
  for (size_t i = 0; i < c.predictors.size(); ++i) {
    if (any_history && c.predictors[i].kind == "remote" && c.predictors[i].tokenizer.empty()) {
      io.report("predictors[" + std::to_string(i) + "].tokenizer",
                "required for a remote predictor when a condition is of kind history (history_tokens counts the "
                "remote model's tokens)");
    }
  }
}

struct EvalRunOptions {
  Distributed* dist = nullptr;  // ranks sharing the tasks; null = this process scores all
};

// Runs the evaluation and writes the run directory; returns report.json's
// content (on every rank).
nlohmann::json run_evaluation(const EvalConfig& config, const EvalRunOptions& options = {});

// The Markdown report for a report.json object.
std::string report_markdown(const nlohmann::json& report);

// An SVG bar chart of accuracy with CI whiskers per predictor x condition.
std::string report_chart_svg(const nlohmann::json& report);

}  // namespace upm
