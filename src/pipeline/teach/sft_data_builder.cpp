#include "upm/pipeline/teach/sft_data_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/progress.h"
#include "upm/core/run_dir.h"
#include "upm/data/event_format.h"
#include "upm/data/prompt_builder.h"
#include "upm/data/select_users.h"
#include "upm/core/random.h"
#include "upm/infer/language_model.h"
#include "upm/infer/predictor.h"
#include "upm/pipeline/teach/sft_report.h"
#include "upm/pipeline/teach/teacher.h"
#include "upm/pipeline/teach/teacher_guide.h"
#include "upm/pipeline/user_log_scan.h"
#include "upm/text/tokenizer.h"

namespace upm {

void apply_preset(BuildSftConfig& c) {
  if (c.preset != "alignxplore") return;
  c.validate.min_accuracy = 1.0;
  c.validate.vs_baseline = "none";
  c.validate.min_kept = 3;
  c.merge.kind = "teacher";
  c.merge.min_accuracy = 0.8;
  c.merge.below_threshold = "drop_user";
  c.teacher.guiding_example = true;
  c.stages.update_rows = true;
  c.stages.split = "thirds";
  c.validate.targets = "next_stage";
  c.validate.target_filter.enabled = true;
  c.validate.target_filter.min_p = 0.9;
  c.validate.target_filter.max_targets = 5;
  c.validate.target_filter.min_targets = 3;
}

namespace {

using nlohmann::json;

json score_json(const ValidationScore& s) {
  return {{"accuracy", s.accuracy},
          {"mean_p_correct", s.mean_p_correct},
          {"correct", s.correct},
          {"choices", s.choices},
          {"p_correct", s.p_correct}};
}

// The seed of one user's round (and of its merge).
uint64_t user_seed(uint64_t seed, const std::string& user_id, int round, bool merge) {
  return stable_hash(user_id + "#" + std::to_string(round) + (merge ? "#merge" : ""), seed);
}

// The rules that drop a user (a record "rejected" with "dropped": the rule).
constexpr const char* kTooFewTargets = "too_few_targets";
constexpr const char* kMergeBelowThreshold = "merge_below_threshold";

json task_ids_json(const std::vector<data::BenchmarkTask>& tasks) {
  json ids = json::array();
  for (const auto& t : tasks) ids.push_back(t.task_id);
  return ids;
}

json labels_json(const std::vector<data::BenchmarkTask>& tasks) {
  json labels = json::array();
  for (const auto& t : tasks) labels.push_back(t.label);
  return labels;
}

std::string fixed3(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
}

// One user on its way through the rounds.
struct UserWork {
  data::UserLog log;
  size_t line = 0;
  std::vector<data::BenchmarkTask> tasks;                   // the user's tasks from the tasks file
  std::array<std::vector<data::BenchmarkTask>, 2> targets;  // what validates round 1, round 2
  std::optional<data::BenchmarkTask> guide;                 // shown to an LM teacher, never validated on
  std::vector<data::Event> stage1, stage2;
  ValidationScore baseline;
  std::string previous_target;  // round 1's target, for round 2
  json record;
  json rows = json::array();
  bool failed = false;  // an input problem: goes to the errors file
  std::string problem;
  std::string dropped, drop_reason;  // a rule dropped the user: no row
};

// One user's state inside a round.
struct RoundWork {
  UserWork* user = nullptr;
  data::BuiltPrompt prompt;
  std::vector<TeacherOutput> outputs;
  std::vector<std::string> profiles;    // of the ok outputs
  std::vector<size_t> output_index;     // profile i -> candidate index
  std::vector<ValidationScore> scores;  // per profile
  std::vector<size_t> kept;             // profile indices, best first
  ValidationScore baseline;             // the no-profile answers to this round's targets
  json round = json::object();
  std::optional<TeacherOutput> merged;
};

class BuildSftRun {
 public:
  BuildSftRun(const BuildSftConfig& config, LanguageModel& predictor_lm, const Tokenizer& prompt_tokenizer,
              Teacher& teacher, JobOutput& out, JobSummary& summary)
      : config_(config),
        per_round_targets_(config.validate.targets == "next_stage" || config.validate.target_filter.enabled),
        predictor_(predictor_lm, config.predictor.predictor, config.prompts),
        builder_(config.prompts, [&prompt_tokenizer](std::string_view t) { return prompt_tokenizer.count_tokens(t); }),
        teacher_(teacher),
        out_(out),
        summary_(summary),
        progress_("build-sft", -1, "users") {
    if (config.teacher.guiding_example && config.teacher.kind != "rule") {
      guide_ = TeacherGuide::load(config.prompts.template_path(config.teacher.guide_template),
                                  config.prompts.max_field_chars);
    }
    if (config.merge.kind == "teacher" && config.teacher.kind != "rule") {
      merge_prompt_.emplace(config.prompts.template_path(config.teacher.merge_template), config.prompts.empty_profile);
    }
    for (const auto& task : data::read_benchmark(config.tasks, strict())) tasks_[task.user_id].push_back(task);
  }

  void add(data::UserLog&& log, size_t line) {
    UserWork user;
    user.log = std::move(log);
    user.line = line;
    window_.push_back(std::move(user));
    if (int64_t(window_.size()) >= config_.window_users) flush();
  }

  void flush() {
    std::vector<UserWork*> active;
    for (auto& user : window_) {
      prepare(user);
      if (!user.failed && user.dropped.empty()) active.push_back(&user);
    }
    run_round(active, 1);
    std::vector<UserWork*> second;
    for (auto* user : active) {
      if (!user->previous_target.empty() && !user->stage2.empty()) second.push_back(user);
    }
    run_round(second, 2);
    for (auto& user : window_) finish(user);
    window_.clear();
  }

 private:
  static data::ReadOptions strict() {
    data::ReadOptions o;
    o.strict = true;
    return o;
  }

  void prepare(UserWork& user) {
    auto it = tasks_.find(user.log.user_id);
    if (user.log.events.empty()) return fail(user, "user has no events to profile");
    if (it == tasks_.end()) return fail(user, "no validation task for this user in " + config_.tasks);
    user.tasks = it->second;
    if (guide_) {
      try {
        GuidedTasks split = split_guide_task(user.tasks);
        user.guide = std::move(split.guide);
        user.tasks = std::move(split.validation);
      } catch (const InputError& e) {
        return fail(user, e.what());
      }
    }
    const auto events = data::chronological(user.log.events);
    const StageBounds bounds = stage_bounds(events.size(), config_.stages);
    user.stage1.assign(events.begin(), events.begin() + long(bounds.first_end));
    if (config_.stages.update_rows) {
      user.stage2.assign(events.begin() + long(bounds.first_end), events.begin() + long(bounds.second_end));
    }
    user.record = {{"user_id", user.log.user_id},       {"line", user.line},
                   {"teacher", teacher_.name()},        {"tasks", task_ids_json(user.tasks)},
                   {"labels", labels_json(user.tasks)}, {"rounds", json::array()}};
    if (user.guide) user.record["guide_task"] = user.guide->task_id;
    user.targets = {user.tasks, user.tasks};
    if (per_round_targets_) choose_targets(user, events, bounds);
  }

  // Each round's targets (validate.targets, validate.target_filter), or the
  // user dropped when a round that will run has too few.
  void choose_targets(UserWork& user, const std::vector<data::Event>& events, const StageBounds& bounds) {
    const bool next_stage = config_.validate.targets == "next_stage";
    const TargetFilterConfig& filter = config_.validate.target_filter;
    std::array<std::vector<size_t>, 2> pool;  // indices into user.tasks
    if (next_stage) {
      const std::vector<int> stages = task_stages(user.tasks, events, bounds);
      user.record["task_stages"] = stages;
      for (size_t i = 0; i < stages.size(); ++i) {
        if (stages[i] == 2) pool[0].push_back(i);
        if (stages[i] == 3) pool[1].push_back(i);
      }
    } else {
      for (size_t i = 0; i < user.tasks.size(); ++i) pool[0].push_back(i), pool[1].push_back(i);
    }
    if (filter.enabled) {
      std::vector<size_t> scored = pool[0];  // each pool task once, in file order
      scored.insert(scored.end(), pool[1].begin(), pool[1].end());
      std::sort(scored.begin(), scored.end());
      scored.erase(std::unique(scored.begin(), scored.end()), scored.end());
      std::vector<data::BenchmarkTask> tasks;
      for (size_t i : scored) tasks.push_back(user.tasks[i]);
      ValidationScore history;
      try {
        history = score_history(predictor_, tasks, events);
      } catch (const InputError& e) {
        return fail(user, std::string("target filter: ") + e.what());
      }
      json h = score_json(history);
      h["tasks"] = task_ids_json(tasks);
      user.record["history_score"] = std::move(h);
      for (auto& round_pool : pool) {
        std::vector<bool> correct;
        std::vector<double> p;
        for (size_t i : round_pool) {
          const size_t k = size_t(std::find(scored.begin(), scored.end(), i) - scored.begin());
          correct.push_back(history.choices[k] == user.tasks[i].label);
          p.push_back(history.p_correct[k]);
        }
        std::vector<size_t> kept;
        for (size_t j : select_targets(correct, p, filter)) kept.push_back(round_pool[j]);
        round_pool = std::move(kept);
      }
    }
    const size_t needed = filter.enabled ? size_t(filter.min_targets) : 1;
    const int rounds = user.stage2.empty() ? 1 : 2;
    for (int r = 0; r < rounds; ++r) {
      if (pool[size_t(r)].size() >= needed) continue;
      std::string which = next_stage ? "tasks in stage " + std::to_string(r + 2) + " of the history" : "tasks";
      if (filter.enabled) {
        which += " that the predictor answers right from the full history with P > " + fixed3(filter.min_p);
      }
      return drop(user, kTooFewTargets,
                  "round " + std::to_string(r + 1) + " has " + std::to_string(pool[size_t(r)].size()) +
                      " validation targets (" + which + "), needs " + std::to_string(needed));
    }
    for (size_t r = 0; r < 2; ++r) {
      user.targets[r].clear();
      for (size_t i : pool[r]) user.targets[r].push_back(user.tasks[i]);
    }
  }

  void drop(UserWork& user, const char* rule, const std::string& reason) {
    user.dropped = rule;
    user.drop_reason = reason;
    user.rows = json::array();
    user.previous_target.clear();
  }

  void fail(UserWork& user, const std::string& problem) {
    user.failed = true;
    user.problem = problem;
  }

  std::string guided(const std::string& prompt, const UserWork& user) const {
    return guide_ ? guide_->render(prompt, *user.guide) : prompt;
  }

  void run_round(const std::vector<UserWork*>& users, int round) {
    std::vector<RoundWork> work;
    std::vector<TeacherRequest> requests;
    for (auto* user : users) {
      RoundWork w;
      w.user = user;
      w.prompt = round == 1 ? builder_.profile(user->log.user_id, user->stage1)
                            : builder_.update(user->log.user_id, user->previous_target, user->stage2);
      w.round = {{"round", round},
                 {"kind", round == 1 ? "profile" : "update"},
                 {"events", w.prompt.events_total},
                 {"events_dropped", w.prompt.events_dropped},
                 {"prompt_tokens", w.prompt.tokens}};
      if (per_round_targets_) {
        w.round["tasks"] = task_ids_json(user->targets[size_t(round - 1)]);
        w.round["labels"] = labels_json(user->targets[size_t(round - 1)]);
      }
      if (!w.prompt.fits) {
        if (round == 1)
          fail(*user, "profile prompt exceeds prompts.max_prompt_tokens even without events");
        else
          reject(w, "update prompt exceeds prompts.max_prompt_tokens even without events");
        continue;
      }
      TeacherRequest r;
      r.user_id = user->log.user_id;
      // Only the events the prompt shows (the newest ones when the budget cut
      // some), so that a statistical target says nothing the prompt lacks.
      const auto& stage = round == 1 ? user->stage1 : user->stage2;
      r.events.assign(stage.end() - long(w.prompt.events_kept), stage.end());
      r.previous_profile = round == 1 ? "" : user->previous_target;
      r.prompt = guided(w.prompt.text, *user);
      r.candidates = config_.teacher.candidates;
      r.seed = user_seed(config_.teacher.seed, r.user_id, round, false);
      requests.push_back(std::move(r));
      work.push_back(std::move(w));
    }
    const auto outputs = teacher_.generate(requests);
    std::vector<RoundWork> validated;
    for (size_t i = 0; i < work.size(); ++i) {
      work[i].outputs = outputs[i];
      // A predict prompt the predictor cannot take (beyond its context
      // window) is this user's problem, not the job's.
      try {
        validate(work[i], round);
      } catch (const InputError& e) {
        const std::string problem = std::string("validation: ") + e.what();
        if (round == 1)
          fail(*work[i].user, problem);
        else
          reject(work[i], problem);
        continue;
      }
      validated.push_back(std::move(work[i]));
    }
    merge_kept(validated, round);
    for (auto& w : validated) choose_target(w, round);
  }

  void reject(RoundWork& w, const std::string& reason) {
    w.round["status"] = "rejected";
    w.round["reason"] = reason;
    w.user->record["rounds"].push_back(w.round);
  }

  void validate(RoundWork& w, int round) {
    UserWork& user = *w.user;
    const auto& tasks = user.targets[size_t(round - 1)];
    // The baseline once per user, or per round when the rounds' targets differ.
    const bool with_baseline = round == 1 || per_round_targets_;
    std::vector<std::optional<std::string>> inputs;
    if (with_baseline) inputs.push_back(std::nullopt);
    for (size_t k = 0; k < w.outputs.size(); ++k) {
      if (!w.outputs[k].ok) continue;
      w.profiles.push_back(w.outputs[k].profile);
      w.output_index.push_back(k);
      inputs.push_back(w.outputs[k].profile);
    }
    std::vector<ValidationScore> scores = score_inputs(predictor_, tasks, inputs);
    if (with_baseline) {
      w.baseline = scores.front();
      scores.erase(scores.begin());
      if (per_round_targets_) {
        w.round["baseline"] = score_json(w.baseline);
      } else {
        user.baseline = w.baseline;
        user.record["baseline"] = score_json(user.baseline);
      }
    } else {
      w.baseline = user.baseline;
    }
    w.scores = std::move(scores);
    std::vector<size_t> kept;
    for (size_t i = 0; i < w.profiles.size(); ++i) {
      if (passes_validation(w.scores[i], w.baseline, config_.validate)) kept.push_back(i);
    }
    // Best first: the merge prompt lists them in that order, ties go to the first.
    while (!kept.empty()) {
      const size_t best = best_candidate(w.profiles, w.scores, kept);
      w.kept.push_back(best);
      kept.erase(std::find(kept.begin(), kept.end(), best));
    }
    json candidates = json::array();
    size_t p = 0;
    for (size_t k = 0; k < w.outputs.size(); ++k) {
      const TeacherOutput& o = w.outputs[k];
      json c = {{"index", k}, {"ok", o.ok}, {"profile", o.profile}, {"reasoning", o.reasoning}};
      if (!o.ok) {
        c["problem"] = o.problem;
      } else {
        c.update(score_json(w.scores[p]));
        c["kept"] = std::find(w.kept.begin(), w.kept.end(), p) != w.kept.end();
        ++p;
      }
      candidates.push_back(std::move(c));
    }
    w.round["candidates"] = std::move(candidates);
    json kept_indices = json::array();
    for (size_t i : w.kept) kept_indices.push_back(w.output_index[i]);
    w.round["kept"] = kept_indices;
  }

  bool can_merge(const RoundWork& w) const {
    return config_.merge.kind == "teacher" && int64_t(w.kept.size()) >= config_.validate.min_kept && w.kept.size() >= 2;
  }

  // Teacher merges of the window's users with >= 2 kept candidates, then their validation.
  void merge_kept(std::vector<RoundWork>& work, int round) {
    std::vector<MergeRequest> requests;
    std::vector<RoundWork*> merging;
    for (auto& w : work) {
      if (!can_merge(w)) continue;
      MergeRequest r;
      r.user_id = w.user->log.user_id;
      for (size_t i : w.kept) r.profiles.push_back(w.profiles[i]);
      r.previous_profile = round == 1 ? "" : w.user->previous_target;
      if (merge_prompt_) r.prompt = merge_prompt_->render(r.user_id, r.profiles, r.previous_profile);
      r.seed = user_seed(config_.teacher.seed, r.user_id, round, true);
      requests.push_back(std::move(r));
      merging.push_back(&w);
    }
    const auto merged = teacher_.merge(requests);
    for (size_t i = 0; i < merging.size(); ++i) merging[i]->merged = merged[i];
  }

  void choose_target(RoundWork& w, int round) {
    UserWork& user = *w.user;
    if (int64_t(w.kept.size()) < config_.validate.min_kept) {
      return reject(w, std::to_string(w.kept.size()) + " of " + std::to_string(w.outputs.size()) +
                           " candidates passed validation, validate.min_kept is " +
                           std::to_string(config_.validate.min_kept));
    }
    const size_t best = w.kept.front();
    w.round["best"] = w.output_index[best];
    std::string target = w.profiles[best], reasoning = w.outputs[w.output_index[best]].reasoning;
    std::string source = "best_of";
    ValidationScore target_score = w.scores[best];
    if (w.merged) {
      const bool drop_user = config_.merge.below_threshold == "drop_user";
      json m = {{"ok", w.merged->ok}, {"profile", w.merged->profile}, {"reasoning", w.merged->reasoning}};
      bool accepted = false;
      if (!w.merged->ok) {
        m["problem"] = w.merged->problem;
      } else {
        try {
          const ValidationScore s =
              score_inputs(predictor_, user.targets[size_t(round - 1)], {w.merged->profile}).front();
          m.update(score_json(s));
          accepted = s.accuracy >= config_.merge.min_accuracy;
          if (!accepted) {
            m["problem"] = drop_user
                               ? "merged profile accuracy " + fixed3(s.accuracy) + " below merge.min_accuracy " +
                                     fixed3(config_.merge.min_accuracy)
                               : "merged profile below merge.min_accuracy; the target is the best single candidate";
          }
          if (accepted) target = w.merged->profile, reasoning = w.merged->reasoning, source = "merge", target_score = s;
        } catch (const InputError& e) {
          m["problem"] = std::string("validation: ") + e.what();
        }
      }
      m["accepted"] = accepted;
      w.round["merge"] = m;
      if (!accepted && drop_user) {
        const std::string reason = "round " + std::to_string(round) + ": " + m.at("problem").get<std::string>() +
                                   " (merge.below_threshold drop_user)";
        reject(w, reason);
        return drop(user, kMergeBelowThreshold, reason);
      }
    }
    w.round["status"] = "ok";
    w.round["target"] = target;
    w.round["target_from"] = source;
    w.round["target_accuracy"] = target_score.accuracy;
    user.record["rounds"].push_back(w.round);
    user.rows.push_back(row(w.prompt.text, target, reasoning));
    if (round == 1) user.previous_target = target;
  }

  json row(const std::string& prompt, const std::string& profile, const std::string& reasoning) const {
    const std::string& note = config_.output.reasoning_note;
    const std::string completion = !note.empty() ? "<think>" + note + "</think>" + profile
                                   : config_.output.include_reasoning && !reasoning.empty()
                                       ? "<think>" + reasoning + "</think>\n\n" + profile
                                       : profile;
    if (config_.output.format == "messages") {
      return {{"messages", json::array({{{"role", "user"}, {"content", prompt}},
                                        {{"role", "assistant"}, {"content", completion}}})}};
    }
    return {{"prompt", prompt}, {"completion", completion}};
  }

  void finish(UserWork& user) {
    if (user.failed) {
      out_.write_error(user.log.user_id, config_.history, user.line, user.problem);
      ++summary_.errors;
    } else {
      user.record["rows"] = user.rows;
      user.record["status"] = user.rows.empty() ? "rejected" : "ok";
      if (!user.dropped.empty()) user.record["dropped"] = user.dropped, user.record["reason"] = user.drop_reason;
      out_.write_record(user.record);
      ++summary_.written;
    }
    progress_.advance();
  }

  const BuildSftConfig& config_;
  const bool per_round_targets_;  // the rounds validate on their own targets
  Predictor predictor_;
  data::PromptBuilder builder_;
  Teacher& teacher_;
  JobOutput& out_;
  JobSummary& summary_;
  Progress progress_;
  std::optional<TeacherGuide> guide_;
  std::optional<MergePrompt> merge_prompt_;
  std::map<std::string, std::vector<data::BenchmarkTask>> tasks_;
  std::vector<UserWork> window_;
};

// sft.jsonl from the records, in input order (a resumed run appends records
// in the order they were finished, which is input order too; sorting makes it
// independent of that).
std::string sft_rows(const std::string& candidates_path) {
  std::vector<std::pair<size_t, std::string>> rows;
  for (const auto& record : read_jsonl_file(candidates_path)) {
    const size_t line = record.value("line", size_t(0));
    for (const auto& r : record.at("rows")) rows.push_back({line, r.dump()});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string text;
  for (const auto& [line, r] : rows) text += r + "\n";
  return text;
}

}  // namespace

BuildSftSummary run_build_sft(const BuildSftConfig& config) {
  const FileLock run_lock = prepare_run_dir(config.run_dir, config_to_json(config));
  LanguageModel predictor_lm =
      load_language_model(config.predictor.model, config.predictor.runtime, config.predictor.prompt_format);
  std::unique_ptr<Tokenizer> own_tokenizer;
  if (!config.tokenizer.empty()) own_tokenizer = load_tokenizer(config.tokenizer);
  const Tokenizer& prompt_tokenizer = own_tokenizer ? *own_tokenizer : *predictor_lm.tokenizer;
  std::unique_ptr<Teacher> teacher = make_teacher(config.teacher);
  const std::set<std::string> users =
      config.users.empty() ? std::set<std::string>{} : data::read_user_list(config.users);

  const Shard shard = shard_from_env();
  const std::string candidates_path = config.run_dir + "/candidates.jsonl";
  BuildSftSummary result;
  {
    JobOutput out(candidates_path, shard);
    result.job = out.new_summary();
    BuildSftRun run(config, predictor_lm, prompt_tokenizer, *teacher, out, result.job);
    JobAdmission admission(shard, out, config.max_users, result.job);
    auto wanted = [&](const std::string& user_id) {
      if (users.empty() || users.count(user_id)) return true;
      ++result.filtered;
      return false;
    };
    scan_user_logs(
        config.history,
        [&](data::UserLog&& log, size_t line) {
          if (wanted(log.user_id) && admission.admit(log.user_id, line)) run.add(std::move(log), line);
          return !admission.stopped();
        },
        [&](const std::string& user_id, size_t line, const std::string& problem) {
          // A line without a readable user id is always reported.
          if ((!user_id.empty() && !wanted(user_id)) || !admission.admit_bad_record(user_id, line)) return;
          out.write_error(user_id, config.history, line, problem);
          ++result.job.errors;
        });
    run.flush();
  }
  const std::string suffix = result.job.output_path.substr(candidates_path.size());
  result.sft_path = config.run_dir + "/sft.jsonl" + suffix;
  result.report_path = config.run_dir + "/report.json" + suffix;
  write_file_atomic(result.sft_path, sft_rows(result.job.output_path));
  std::vector<std::string> drop_rules;
  if (config.validate.targets == "next_stage" || config.validate.target_filter.enabled) {
    drop_rules.push_back(kTooFewTargets);
  }
  if (config.merge.kind == "teacher" && config.merge.below_threshold == "drop_user") {
    drop_rules.push_back(kMergeBelowThreshold);
  }
  const json report = build_sft_report(result.job.output_path, result.job.errors_path, drop_rules);
  write_file_atomic(result.report_path, report.dump(2) + "\n");
  write_file_atomic(config.run_dir + "/report.md" + suffix, build_sft_report_markdown(report));
  spdlog::info("build-sft: {} users written, {} errors ({} done before, {} for other ranks, {} not in users){}; {}",
               result.job.written, result.job.errors, result.job.already_done, result.job.other_rank, result.filtered,
               result.job.stopped_early ? "; stopped at max_users" : "", result.sft_path);
  return result;
}

}  // namespace upm
