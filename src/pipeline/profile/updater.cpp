#include "upm/pipeline/profile/updater.h"

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "upm/core/error.h"
#include "upm/core/progress.h"
#include "upm/data/prompt_builder.h"
#include "upm/pipeline/job_output.h"
#include "upm/infer/language_model.h"
#include "upm/pipeline/profile/profile_state.h"
#include "upm/pipeline/profile/profile_writer.h"
#include "upm/pipeline/user_log_scan.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

struct PendingUpdate {
  std::string user_id;
  size_t line = 0;
  bool has_previous = false;
  data::ProfileRecord previous;         // version 0 and empty text when the user had none
  std::vector<data::Event> remaining;   // unseen events, chronological, not yet folded
  std::vector<std::string> folded_ids;  // ids folded in so far
  std::string profile, reasoning;       // after the rounds done so far
  data::BuiltPrompt prompt;             // this round's
  size_t round_events = 0;              // events this round folds
};

class UpdateRun {
 public:
  UpdateRun(LanguageModel& lm, const ProfileJobSettings& config, const std::string& events_path, JobOutput& out,
            JobSummary& summary)
      : lm_(lm),
        config_(config),
        events_path_(events_path),
        out_(out),
        summary_(summary),
        builder_(config.prompts, [&lm](std::string_view text) { return lm.tokenizer->count_tokens(text); }),
        progress_("updates", -1, "users") {}

  void add(PendingUpdate&& update) {
    window_.push_back(std::move(update));
    if (int64_t(window_.size()) >= config_.window_users) flush();
  }

  void write_unchanged(const data::ProfileRecord& record) {
    out_.write_record(data::to_json(record));
    ++summary_.written;
    progress_.advance();
  }

  void error(const std::string& user_id, size_t line, const std::string& problem) {
    out_.write_error(user_id, events_path_, line, problem);
    ++summary_.errors;
    progress_.advance();
  }

  // An update that failed: the user's current profile goes into the snapshot
  // unchanged but marked, so that no user is ever lost and the same batch
  // can be applied again. The record is written before the error line: a
  // kill between the two leaves the user in the snapshot.
  void failed(const std::string& user_id, size_t line, const data::ProfileRecord* previous, size_t pending_events,
              const std::string& problem) {
    if (previous) keep_previous(*previous, line, pending_events, problem);
    error(user_id, line, problem);
  }

  void keep_previous(const data::ProfileRecord& previous, size_t line, size_t pending_events,
                     const std::string& problem) {
    data::ProfileRecord kept = previous;
    nlohmann::json mark = {
        {"problem", problem}, {"failed_at", utc_timestamp()}, {"file", events_path_}, {"line", line}};
    if (pending_events > 0) mark["pending_events"] = pending_events;  // unknown for an unreadable record
    kept.extra["update_failed"] = std::move(mark);
    out_.write_record(data::to_json(kept));
    ++summary_.kept;
  }

  // Rounds until every user of the window has folded all its new events.
  void flush() {
    std::vector<PendingUpdate> active = std::move(window_);
    window_.clear();
    while (!active.empty()) {
      std::vector<PendingUpdate> ready;
      for (auto& u : active) {
        if (plan_round(u))
          ready.push_back(std::move(u));
        else
          fail(u, "update prompt exceeds prompts.max_prompt_tokens even with one new event");
      }
      active.clear();
      std::stable_sort(ready.begin(), ready.end(), [](const PendingUpdate& a, const PendingUpdate& b) {
        return a.prompt.tokens < b.prompt.tokens;
      });
      const size_t batch = size_t(config_.generation.max_batch_sequences);
      for (size_t start = 0; start < ready.size(); start += batch) {
        const size_t end = std::min(ready.size(), start + batch);
        std::vector<std::string> prompts;
        for (size_t i = start; i < end; ++i) prompts.push_back(ready[i].prompt.text);
        auto written = write_profile_batch(lm_, prompts, config_.generation);
        for (size_t i = start; i < end; ++i) {
          PendingUpdate& u = ready[i];
          if (!written[i - start].ok) {
            fail(u, written[i - start].problem);
            continue;
          }
          u.profile = written[i - start].text.profile;
          u.reasoning = written[i - start].text.reasoning;
          for (size_t k = 0; k < u.round_events; ++k) u.folded_ids.push_back(u.remaining[k].id);
          u.remaining.erase(u.remaining.begin(), u.remaining.begin() + long(u.round_events));
          if (u.remaining.empty())
            finish(u);
          else
            active.push_back(std::move(u));
        }
      }
    }
  }

 private:
  void fail(const PendingUpdate& u, const std::string& problem) {
    failed(u.user_id, u.line, u.has_previous ? &u.previous : nullptr, u.remaining.size(), problem);
  }

  // The oldest unseen events that fit one update prompt beside the current
  // profile. False if not even one does.
  bool plan_round(PendingUpdate& u) {
    size_t take = u.remaining.size();
    while (take > 0) {
      std::vector<data::Event> head(u.remaining.begin(), u.remaining.begin() + long(take));
      u.prompt = builder_.update(u.user_id, u.profile, head);
      if (u.prompt.events_dropped == 0 && u.prompt.fits) break;
      // The builder kept the newest events that fit; as many of the oldest
      // usually fit too, and one fewer is tried otherwise.
      take = std::min(take - 1, u.prompt.events_kept);
    }
    u.round_events = take;
    return take > 0;
  }

  void finish(const PendingUpdate& u) {
    data::ProfileRecord record;
    record.user_id = u.user_id;
    record.profile = u.profile;
    record.version = u.previous.version + 1;
    record.model = config_.model_name.empty() ? lm_.name : config_.model_name;
    record.created_at = utc_timestamp();
    std::vector<std::string> ids = seen_event_ids(u.previous);
    ids.insert(ids.end(), u.folded_ids.begin(), u.folded_ids.end());
    set_seen_event_ids(record, ids);
    if (config_.keep_reasoning && !u.reasoning.empty()) record.extra["reasoning"] = u.reasoning;
    out_.write_record(data::to_json(record));
    ++summary_.written;
    progress_.advance();
  }

  LanguageModel& lm_;
  const ProfileJobSettings& config_;
  std::string events_path_;
  JobOutput& out_;
  JobSummary& summary_;
  data::PromptBuilder builder_;
  Progress progress_;
  std::vector<PendingUpdate> window_;
};

std::map<std::string, data::ProfileRecord> current_profiles(const std::string& path, std::vector<std::string>& order) {
  data::ReadOptions strict;
  strict.strict = true;
  std::map<std::string, data::ProfileRecord> out;
  for (auto& record : latest_versions(data::read_profiles(path, strict))) {
    seen_event_ids(record);  // validates the field now, not halfway through the job
    order.push_back(record.user_id);
    out.emplace(record.user_id, std::move(record));
  }
  return out;
}

}  // namespace

JobSummary run_update_job(LanguageModel& lm, const ProfileJobSettings& config, const std::string& profiles,
                          const std::string& events, const std::string& output) {
  std::vector<std::string> profile_order;
  const auto current = current_profiles(profiles, profile_order);
  const Shard shard = shard_from_env();
  JobOutput out(output, shard);
  JobSummary summary = out.new_summary();
  UpdateRun run(lm, config, events, out, summary);
  JobAdmission admission(shard, out, config.max_users, summary);
  std::set<std::string> in_events;
  std::map<std::string, std::pair<size_t, std::string>> bad_records;  // user -> first bad line, problem
  scan_user_logs(
      events,
      [&](data::UserLog&& log, size_t line) {
        in_events.insert(log.user_id);
        if (!admission.admit(log.user_id, line)) return !admission.stopped();
        PendingUpdate u;
        u.user_id = log.user_id;
        u.line = line;
        auto it = current.find(log.user_id);
        if (it != current.end()) {
          u.has_previous = true;
          u.previous = it->second;
        }
        const auto seen_list = seen_event_ids(u.previous);
        const std::set<std::string> seen(seen_list.begin(), seen_list.end());
        for (auto& e : data::chronological(log.events)) {
          if (!seen.count(e.id)) u.remaining.push_back(std::move(e));
        }
        if (u.remaining.empty()) {
          if (it != current.end())
            run.write_unchanged(it->second);
          else
            run.error(u.user_id, line, "user has no profile and no events");
          return true;
        }
        u.profile = u.previous.profile;
        run.add(std::move(u));
        return true;
      },
      [&](const std::string& user_id, size_t line, const std::string& problem) {
        if (!admission.admit_bad_record(user_id, line)) return;
        run.error(user_id, line, problem);
        // Unless a good record of the user follows, this is its failed update.
        if (current.count(user_id)) bad_records.emplace(user_id, std::make_pair(line, problem));
      });
  run.flush();
  // Users with no new events at all keep their profile in the snapshot, and
  // so does any user an earlier, interrupted run left without a record.
  for (const auto& user_id : profile_order) {
    if (in_events.count(user_id) && out.user_done(user_id)) continue;
    if (!admission.admit(user_id, 0)) continue;
    auto bad = bad_records.find(user_id);
    if (bad != bad_records.end() && !in_events.count(user_id)) {
      run.keep_previous(current.at(user_id), bad->second.first, 0, bad->second.second);
    } else {
      run.write_unchanged(current.at(user_id));
    }
  }
  spdlog::info(
      "upm-update: {} profiles and {} errors written to {} ({} failed updates kept the previous profile; "
      "{} done before, {} for other ranks){}",
      summary.written, summary.errors, out.path(), summary.kept, summary.already_done, summary.other_rank,
      summary.stopped_early ? "; stopped at max_users" : "");
  return summary;
}

JobSummary run_update_job(const UpdateJobConfig& config) {
  require_job_paths(
      {{"model", config.model}, {"profiles", config.profiles}, {"events", config.events}, {"output", config.output}});
  spdlog::info("upm-update config: {}", config_to_json(config).dump());
  LanguageModel lm = load_language_model(config.model, config.runtime, config.prompt_format);
  return run_update_job(lm, config, config.profiles, config.events, config.output);
}

}  // namespace upm
