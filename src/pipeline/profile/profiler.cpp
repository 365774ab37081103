#include "upm/pipeline/profile/profiler.h"

#include <algorithm>
#include <numeric>

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

struct PendingUser {
  data::UserLog log;
  size_t line = 0;
  data::BuiltPrompt prompt;
};

class ProfileRun {
 public:
  ProfileRun(LanguageModel& lm, const ProfileJobSettings& config, const std::string& input, JobOutput& out,
             JobSummary& summary)
      : lm_(lm),
        config_(config),
        input_(input),
        out_(out),
        summary_(summary),
        builder_(config.prompts, [&lm](std::string_view text) { return lm.tokenizer->count_tokens(text); }),
        progress_("profiles", -1, "users") {}

  void add(data::UserLog&& log, size_t line) {
    window_.push_back({std::move(log), line, {}});
    if (int64_t(window_.size()) >= config_.window_users) flush();
  }

  // Builds the window's prompts, sorts them by length and generates batch by batch.
  void flush() {
    std::vector<PendingUser> ready;
    for (auto& user : window_) {
      if (user.log.events.empty()) {
        error(user, "user has no events to profile");
        continue;
      }
      user.prompt = builder_.profile(user.log);
      if (!user.prompt.fits) {
        error(user, "profile prompt exceeds prompts.max_prompt_tokens even without events");
        continue;
      }
      ready.push_back(std::move(user));
    }
    window_.clear();
    std::stable_sort(ready.begin(), ready.end(),
                     [](const PendingUser& a, const PendingUser& b) { return a.prompt.tokens < b.prompt.tokens; });
    const size_t batch = size_t(config_.generation.max_batch_sequences);
    for (size_t start = 0; start < ready.size(); start += batch) {
      std::vector<PendingUser> chunk(std::make_move_iterator(ready.begin() + start),
                                     std::make_move_iterator(ready.begin() + std::min(ready.size(), start + batch)));
      generate(chunk);
    }
  }

 private:
  void generate(std::vector<PendingUser>& chunk) {
    std::vector<std::string> prompts;
    for (const auto& user : chunk) prompts.push_back(user.prompt.text);
    std::vector<WrittenProfile> written = write_profile_batch(lm_, prompts, config_.generation);
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (written[i].ok)
        write(chunk[i], written[i].text);
      else
        error(chunk[i], written[i].problem);
    }
  }

  void write(const PendingUser& user, const ProfileText& text) {
    data::ProfileRecord record;
    record.user_id = user.log.user_id;
    record.profile = text.profile;
    record.version = 1;
    record.model = config_.model_name.empty() ? lm_.name : config_.model_name;
    record.created_at = utc_timestamp();
    // Every event counts as seen, the ones dropped for the budget too: they
    // are history the profile chose not to read, not news for the updater.
    std::vector<std::string> ids;
    for (const auto& e : user.log.events) ids.push_back(e.id);
    set_seen_event_ids(record, ids);
    if (user.prompt.events_dropped > 0) record.extra["events_dropped"] = user.prompt.events_dropped;
    if (config_.keep_reasoning && !text.reasoning.empty()) record.extra["reasoning"] = text.reasoning;
    out_.write_record(data::to_json(record));
    ++summary_.written;
    progress_.advance();
  }

  void error(const PendingUser& user, const std::string& problem) {
    out_.write_error(user.log.user_id, input_, user.line, problem);
    ++summary_.errors;
    progress_.advance();
  }

  LanguageModel& lm_;
  const ProfileJobSettings& config_;
  std::string input_;
  JobOutput& out_;
  JobSummary& summary_;
  data::PromptBuilder builder_;
  Progress progress_;
  std::vector<PendingUser> window_;
};

}  // namespace

void require_job_paths(const std::vector<std::pair<std::string, std::string>>& keys) {
  for (const auto& [key, value] : keys) {
    if (value.empty()) throw InputError(Location{"", 0, key}, "required: give --" + key + " or --set " + key + "=...");
  }
}

JobSummary run_profile_job(LanguageModel& lm, const ProfileJobSettings& config, const std::string& input,
                           const std::string& output) {
  const Shard shard = shard_from_env();
  JobOutput out(output, shard);
  JobSummary summary = out.new_summary();
  ProfileRun run(lm, config, input, out, summary);
  JobAdmission admission(shard, out, config.max_users, summary);
  scan_user_logs(
      input,
      [&](data::UserLog&& log, size_t line) {
        if (admission.admit(log.user_id, line)) run.add(std::move(log), line);
        return !admission.stopped();
      },
      [&](const std::string& user_id, size_t line, const std::string& problem) {
        if (!admission.admit_bad_record(user_id, line)) return;
        out.write_error(user_id, input, line, problem);
        ++summary.errors;
      });
  run.flush();
  spdlog::info("upm-profile: {} profiles and {} errors written to {} ({} done before, {} for other ranks){}",
               summary.written, summary.errors, out.path(), summary.already_done, summary.other_rank,
               summary.stopped_early ? "; stopped at max_users" : "");
  return summary;
}

JobSummary run_profile_job(const ProfileJobConfig& config) {
  require_job_paths({{"model", config.model}, {"input", config.input}, {"output", config.output}});
  spdlog::info("upm-profile config: {}", config_to_json(config).dump());
  LanguageModel lm = load_language_model(config.model, config.runtime, config.prompt_format);
  return run_profile_job(lm, config, config.input, config.output);
}

}  // namespace upm
