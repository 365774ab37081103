#include "upm/pipeline/eval/evaluator.h"

#include <cmath>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/progress.h"
#include "upm/core/run_dir.h"
#include "upm/data/event_format.h"
#include "upm/data/profile_record.h"
#include "upm/data/user_log.h"
#include "upm/pipeline/eval/eval_stats.h"
#include "upm/infer/language_model.h"
#include "upm/infer/remote_predictor.h"
#include "upm/openai/openai_client.h"
#include "upm/pipeline/profile/profile_state.h"
#include "upm/text/tokenizer.h"
#include "upm/dist/process_group.h"

namespace upm {

namespace {

using nlohmann::json;

data::ReadOptions strict_read() {
  data::ReadOptions options;
  options.strict = true;
  return options;
}

// What one condition gives the predictor per user.
struct ConditionData {
  ConditionSpec spec;
  std::map<std::string, std::string> profiles;
  std::map<std::string, std::vector<data::Event>> histories;
};

ConditionData load_condition(const ConditionSpec& spec, size_t index) {
  ConditionData data;
  data.spec = spec;
  if (data.spec.name.empty()) data.spec.name = spec.kind;
  const std::string where = "conditions[" + std::to_string(index) + "]";
  if (spec.kind == "profiles") {
    if (spec.profiles.empty()) throw InputError(Location{"", 0, where + ".profiles"}, "required for kind profiles");
    for (const auto& p : latest_versions(data::read_profiles(spec.profiles, strict_read()))) {
      data.profiles[p.user_id] = p.profile;
    }
  } else if (spec.kind == "history") {
    if (spec.history.empty()) throw InputError(Location{"", 0, where + ".history"}, "required for kind history");
    for (auto& log : data::read_user_logs(spec.history, strict_read())) data.histories[log.user_id] = log.events;
  }
  return data;
}

// The newest events whose prompt lines fit `budget` tokens, chronological.
std::vector<data::Event> recent_history(const std::vector<data::Event>& events, int64_t budget,
                                        const Tokenizer& tokenizer, int64_t max_chars) {
  const auto ordered = data::chronological(events);
  int64_t used = 0;
  size_t kept = 0;
  while (kept < ordered.size()) {
    const auto& e = ordered[ordered.size() - 1 - kept];
    const int64_t cost = int64_t(tokenizer.count_tokens(data::format_event(e, size_t(max_chars)) + "\n"));
    if (used + cost > budget) break;
    used += cost;
    ++kept;
  }
  return std::vector<data::Event>(ordered.end() - long(kept), ordered.end());
}

// One entry of `predictors`, ready to score.
struct LoadedPredictor {
  std::string name;
  std::shared_ptr<Tokenizer> tokenizer;  // cuts histories; null for a remote predictor without one
  std::unique_ptr<LanguageModel> lm;     // local
  std::unique_ptr<Predictor> local;
  std::unique_ptr<RemotePredictor> remote;

  std::vector<Prediction> predict(const std::vector<PredictRequest>& batch) {
    return local ? local->predict(batch) : remote->predict(batch);
  }
};

LoadedPredictor load_predictor(const PredictorSpec& spec, const data::PromptConfig& prompts, size_t index) {
  LoadedPredictor p;
  if (spec.kind == "local") {
    p.lm = std::make_unique<LanguageModel>(load_language_model(spec.model, spec.runtime, spec.prompt_format));
    p.name = spec.name.empty() ? p.lm->name : spec.name;
    p.tokenizer = p.lm->tokenizer;
    p.local = std::make_unique<Predictor>(*p.lm, spec.predictor, prompts);
    return p;
  }
  auto client = std::make_shared<openai::OpenAIClient>(
      remote_client_config(spec.endpoint, "predictors[" + std::to_string(index) + "].remote"));
  p.name = spec.name.empty() ? client->config().model : spec.name;
  if (!spec.tokenizer.empty()) p.tokenizer = load_tokenizer(spec.tokenizer);
  // Without a tokenizer no history is cut (the config then refuses history
  // conditions) and prompt sizes are the endpoint's own counts.
  data::TokenCounter count = [tok = p.tokenizer](std::string_view text) -> size_t {
    return tok ? tok->count_tokens(text) : 0;
  };
  p.remote = std::make_unique<RemotePredictor>(
      [client](const std::vector<openai::ChatRequest>& requests) { return client->chat_many(requests); },
      spec.predictor, prompts, count, spec.endpoint.missing_label_logprob, client->config().base_url);
  return p;
}

// One condition's outcomes, indexed like the benchmark's tasks (with ranks,
// each fills its own positions until the outcomes are summed over ranks).
struct Outcomes {
  std::vector<double> correct, p_correct;
  int64_t missing = 0, over_budget = 0;
};

// Sums each condition's outcomes over the ranks: a rank leaves zeros at the
// positions it did not score, so the sum is the whole benchmark.
void sum_outcomes_over_ranks(Distributed* dist, std::vector<Outcomes>& outcomes) {
  if (!dist) return;
  std::vector<double> flat;  // per condition: correct, p_correct, missing, over_budget
  for (const auto& o : outcomes) {
    flat.insert(flat.end(), o.correct.begin(), o.correct.end());
    flat.insert(flat.end(), o.p_correct.begin(), o.p_correct.end());
    flat.push_back(double(o.missing));
    flat.push_back(double(o.over_budget));
  }
  flat = sum_over_ranks(dist, std::move(flat));
  auto at = flat.begin();
  for (auto& o : outcomes) {
    const auto n = long(o.correct.size());
    o.correct.assign(at, at + n);
    o.p_correct.assign(at + n, at + 2 * n);
    o.missing = int64_t(at[2 * n]);
    o.over_budget = int64_t(at[2 * n + 1]);
    at += 2 * n + 2;
  }
}

std::string predictions_path(const std::string& run_dir, int rank, int world) {
  if (world <= 1) return run_dir + "/predictions.jsonl";
  return run_dir + "/predictions.rank" + std::to_string(rank) + "-of-" + std::to_string(world) + ".jsonl";
}

// An undefined figure (an AUC over no two-option task is NaN) is null, as
// the report file would read back: NaN never equals itself in a comparison.
json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json estimate_json(const Estimate& e) {
  return {
      {"mean", finite_or_null(e.mean)}, {"low", finite_or_null(e.low)}, {"high", finite_or_null(e.high)}, {"n", e.n}};
}

class Evaluation {
 public:
  Evaluation(const EvalConfig& config, Distributed* dist)
      : config_(config), dist_(dist), rank_(dist ? dist->rank() : 0), world_(dist ? dist->world_size() : 1) {
    tasks_ = data::read_benchmark(config.benchmark, strict_read());
    if (tasks_.empty()) throw InputError(Location{config.benchmark, 0, ""}, "benchmark holds no task");
    for (size_t i = 0; i < config.conditions.size(); ++i)
      conditions_.push_back(load_condition(config.conditions[i], i));
    for (size_t i = 0; i < config.comparisons.size(); ++i) {
      const std::string where = "comparisons[" + std::to_string(i) + "]";
      comparisons_.emplace_back(condition_index(config.comparisons[i].condition, where + ".condition"),
                                condition_index(config.comparisons[i].baseline, where + ".baseline"));
    }
    // A remote predictor costs nothing to set up: a bad base_url, an unset key
    // variable or tokenizer path fails now rather than after the local ones ran.
    for (size_t i = 0; i < config.predictors.size(); ++i) {
      if (config.predictors[i].kind == "remote") load_predictor(config.predictors[i], config.prompts, i);
    }
    for (size_t i = size_t(rank_); i < tasks_.size(); i += size_t(world_)) mine_.push_back(i);
    predictions_ = std::make_unique<AtomicFileWriter>(predictions_path(config.run_dir, rank_, world_));
  }

  json run() {
    json results = json::array(), differences = json::array();
    for (size_t i = 0; i < config_.predictors.size(); ++i) {
      LoadedPredictor predictor = load_predictor(config_.predictors[i], config_.prompts, i);
      const std::string& name = predictor.name;
      std::vector<Outcomes> outcomes;
      for (const auto& condition : conditions_) outcomes.push_back(score(predictor, condition));
      sum_outcomes_over_ranks(dist_, outcomes);
      for (size_t c = 0; c < outcomes.size(); ++c)
        results.push_back(result_json(name, conditions_[c].spec, outcomes[c]));
      for (size_t c = 1; c < outcomes.size(); ++c) differences.push_back(difference_json(name, c, 0, outcomes));
      for (auto [c, b] : comparisons_) differences.push_back(difference_json(name, c, b, outcomes));
    }
    predictions_->commit();
    if (dist_) {
      dist_->barrier();  // every rank's predictions are on disk
      if (rank_ == 0) merge_predictions();
    }
    return {{"benchmark", config_.benchmark}, {"tasks", tasks_.size()},
            {"ci_level", config_.ci_level},   {"bootstrap_resamples", config_.bootstrap_resamples},
            {"group_by", config_.group_by},   {"results", results},
            {"differences", differences}};
  }

 private:
  PredictRequest request(const data::BenchmarkTask& task, const ConditionData& condition,
                         const LoadedPredictor& predictor, Outcomes& outcomes) const {
    PredictRequest r;
    r.task = task;
    if (condition.spec.kind == "none") {
      r.input = PredictInput::none;
    } else if (condition.spec.kind == "history") {
      r.input = PredictInput::history;
      auto it = condition.histories.find(task.user_id);
      if (!predictor.tokenizer)
        throw Error("upm-eval: predictor " + predictor.name + " has no tokenizer to cut histories");
      if (it == condition.histories.end())
        ++outcomes.missing;
      else
        r.history = recent_history(it->second, condition.spec.history_tokens, *predictor.tokenizer,
                                   config_.prompts.max_field_chars);
    } else {
      auto it = condition.profiles.find(task.user_id);
      if (it == condition.profiles.end())
        ++outcomes.missing;
      else
        r.profile = it->second;
    }
    return r;
  }

  Outcomes score(LoadedPredictor& predictor, const ConditionData& condition) {
    const std::string& name = predictor.name;
    Outcomes outcomes;
    outcomes.correct.assign(tasks_.size(), 0.0);
    outcomes.p_correct.assign(tasks_.size(), 0.0);
    Progress progress("eval " + name + " / " + condition.spec.name, int64_t(mine_.size()), "tasks");
    for (size_t start = 0; start < mine_.size(); start += size_t(config_.batch_tasks)) {
      const size_t end = std::min(mine_.size(), start + size_t(config_.batch_tasks));
      std::vector<PredictRequest> batch;
      for (size_t k = start; k < end; ++k) batch.push_back(request(tasks_[mine_[k]], condition, predictor, outcomes));
      const auto predictions = predictor.predict(batch);
      for (size_t i = 0; i < batch.size(); ++i) {
        const Prediction& p = predictions[i];
        outcomes.correct[mine_[start + i]] = p.correct ? 1.0 : 0.0;
        outcomes.p_correct[mine_[start + i]] = p.p_correct;
        if (!p.prompt_fits) ++outcomes.over_budget;
        json line = {{"predictor", name},
                     {"condition", condition.spec.name},
                     {"task_id", batch[i].task.task_id},
                     {"user_id", batch[i].task.user_id},
                     {"label", batch[i].task.label},
                     {"choice", p.choice},
                     {"correct", p.correct},
                     {"p_correct", p.p_correct},
                     {"probabilities", p.probabilities},
                     {"scores", p.scores},
                     {"shown_order", p.shown_order},
                     {"prompt_tokens", p.prompt_tokens}};
        predictions_->write(line.dump() + "\n");
      }
      progress.advance(int64_t(batch.size()));
    }
    return outcomes;
  }

  std::string group_of(const data::BenchmarkTask& task, const std::string& field) const {
    auto it = task.extra.find(field);
    if (it == task.extra.end() || it->is_null()) return "(none)";
    return it->is_string() ? it->get<std::string>() : it->dump();
  }

  // ROC AUC of P(second option) against "the second option is right" over
  // the two-option tasks (all of them, or those whose `field` is `group`):
  // accuracy scores the choice, AUC how well the predictor's confidence
  // ranks the answers across tasks.
  Estimate auc_of(const std::vector<double>& p_correct, const std::string& field, const std::string& group = "") const {
    std::vector<double> scores;
    std::vector<int> labels;
    for (size_t i = 0; i < tasks_.size(); ++i) {
      if (tasks_[i].options.size() != 2 || (!field.empty() && group_of(tasks_[i], field) != group)) continue;
      scores.push_back(tasks_[i].label == 1 ? p_correct[i] : 1.0 - p_correct[i]);
      labels.push_back(tasks_[i].label);
    }
    return bootstrap_auc(scores, labels, config_.ci_level, config_.bootstrap_resamples, config_.bootstrap_seed);
  }

  json result_json(const std::string& predictor, const ConditionSpec& condition, const Outcomes& o) const {
    const double level = config_.ci_level;
    const int resamples = config_.bootstrap_resamples;
    const uint64_t seed = config_.bootstrap_seed;
    json result = {{"predictor", predictor},
                   {"condition", condition.name},
                   {"kind", condition.kind},
                   {"n", o.correct.size()},
                   {"accuracy", estimate_json(bootstrap_mean(o.correct, level, resamples, seed))},
                   {"p_correct", estimate_json(bootstrap_mean(o.p_correct, level, resamples, seed))},
                   {"auc", estimate_json(auc_of(o.p_correct, ""))},
                   {"missing_inputs", o.missing},
                   {"prompts_over_budget", o.over_budget}};
    json breakdown = json::object();
    for (const auto& field : config_.group_by) {
      std::vector<std::string> groups;
      for (const auto& task : tasks_) groups.push_back(group_of(task, field));
      const auto acc = bootstrap_by_group(o.correct, groups, level, resamples, seed);
      const auto pc = bootstrap_by_group(o.p_correct, groups, level, resamples, seed);
      json by = json::object();
      for (const auto& [group, e] : acc) {
        by[group] = {{"accuracy", estimate_json(e)},
                     {"p_correct", estimate_json(pc.at(group))},
                     {"auc", estimate_json(auc_of(o.p_correct, field, group))}};
      }
      breakdown[field] = by;
    }
    result["by"] = breakdown;
    return result;
  }

  // Joins the ranks' prediction files in single-process order: predictor,
  // condition, task; task i's line is the next one of rank i % W's file.
  void merge_predictions() const {
    std::vector<std::deque<std::string>> lines(static_cast<size_t>(world_));
    for (int r = 0; r < world_; ++r) {
      std::ifstream in(predictions_path(config_.run_dir, r, world_));
      if (!in) throw Error("upm-eval: rank " + std::to_string(r) + "'s predictions are missing");
      for (std::string line; std::getline(in, line);) lines[size_t(r)].push_back(std::move(line));
    }
    AtomicFileWriter out(predictions_path(config_.run_dir, 0, 1));
    for (size_t p = 0; p < config_.predictors.size(); ++p) {
      for (size_t c = 0; c < conditions_.size(); ++c) {
        for (size_t i = 0; i < tasks_.size(); ++i) {
          const size_t rank = i % size_t(world_);
          auto& from = lines[rank];
          if (from.empty()) throw Error("upm-eval: rank " + std::to_string(rank) + " wrote too few predictions");
          out.write(from.front() + "\n");
          from.pop_front();
        }
      }
    }
    out.commit();
    for (int r = 0; r < world_; ++r) std::filesystem::remove(predictions_path(config_.run_dir, r, world_));
  }

  size_t condition_index(const std::string& name, const std::string& where) const {
    for (size_t i = 0; i < conditions_.size(); ++i) {
      if (conditions_[i].spec.name == name) return i;
    }
    throw InputError(Location{"", 0, where}, "no condition is named \"" + name + "\"");
  }

  // Paired difference of condition `c` minus condition `b` over the same tasks.
  json difference_json(const std::string& predictor, size_t c, size_t b, const std::vector<Outcomes>& o) const {
    const double level = config_.ci_level;
    return {
        {"predictor", predictor},
        {"condition", conditions_[c].spec.name},
        {"baseline", conditions_[b].spec.name},
        {"accuracy", estimate_json(bootstrap_mean_difference(o[c].correct, o[b].correct, level,
                                                             config_.bootstrap_resamples, config_.bootstrap_seed))},
        {"p_correct", estimate_json(bootstrap_mean_difference(o[c].p_correct, o[b].p_correct, level,
                                                              config_.bootstrap_resamples, config_.bootstrap_seed))}};
  }

  const EvalConfig& config_;
  Distributed* dist_;
  int rank_, world_;
  std::vector<size_t> mine_;  // positions of the tasks this rank scores
  std::vector<data::BenchmarkTask> tasks_;
  std::vector<ConditionData> conditions_;
  std::vector<std::pair<size_t, size_t>> comparisons_;  // (condition, baseline) indices
  std::unique_ptr<AtomicFileWriter> predictions_;
};

}  // namespace

json run_evaluation(const EvalConfig& config, const EvalRunOptions& options) {
  if (config.predictors.empty()) throw InputError(Location{"", 0, "predictors"}, "at least one predictor is needed");
  if (config.conditions.empty()) throw InputError(Location{"", 0, "conditions"}, "at least one condition is needed");
  const bool writer = !options.dist || options.dist->rank() == 0;
  FileLock run_lock;
  if (writer)
    run_lock = prepare_run_dir(config.run_dir, config_to_json(config));
  else
    make_directories(config.run_dir);
  json report = Evaluation(config, options.dist).run();
  if (!writer) return report;
  write_file_atomic(config.run_dir + "/report.json", report.dump(2) + "\n");
  write_file_atomic(config.run_dir + "/report.md", report_markdown(report));
  if (config.chart) write_file_atomic(config.run_dir + "/chart.svg", report_chart_svg(report));
  spdlog::info("upm-eval: report written to {}/report.json and report.md", config.run_dir);
  return report;
}

}  // namespace upm
