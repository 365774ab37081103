#pragma once
// Streaming update (`upm-update`): folds a batch of new events into each
// user's current profile through the update prompt (previous profile + new
// events -> profile), without re-reading the history, so its cost depends on
// the profile and the new events only.
//
// Inputs: PROFILES (JSONL; the latest version per user is current) and EVENTS
// (user-log format: the new events per user). OUTPUT is a full snapshot, one
// record per user:
//   - a user with events not yet in its "event_ids": version n+1 (1 for a user
//     without a profile), event_ids extended, events_seen = their count;
//   - a user with no unseen event (and every profile user absent from EVENTS):
//     the current record, unchanged (same version, same created_at).
//   - a user whose update failed (unreadable events record, prompt too long,
//     unusable model output): the current record, unchanged but for an
//     "update_failed": {"problem", "failed_at", "file", "line",
//     "pending_events"} field; the error is also in OUTPUT.errors.jsonl. The
//     next successful update drops the mark.
// So the snapshot holds every user PROFILES held, and applying the same batch
// to OUTPUT again yields the same snapshot (failed users are retried).
// When the new events do not fit one prompt, they are folded oldest first in
// several rounds (each round's profile feeds the next); the record still
// advances by one version. Resumable and sharded like upm-profile (job_output.h).

#include <string>

#include "upm/pipeline/profile/profiler.h"

namespace upm {

// Same knobs as batch profiling (prompts.update_template is the prompt used);
// the paths are required like upm-profile's (--model, --profiles, --events, --output).
struct UpdateJobConfig : ProfileJobSettings {
  std::string model;     // model folder (config.json, safetensors, tokenizer)
  std::string profiles;  // current profiles (JSONL; latest version per user)
  std::string events;    // new events (user-log JSONL)
  std::string output;    // updated snapshot (JSONL), appended; errors to OUTPUT.errors.jsonl
};

inline void describe(ConfigIO& io, UpdateJobConfig& c) {
  io.field("model", c.model);
  io.field("profiles", c.profiles);
  io.field("events", c.events);
  io.field("output", c.output);
  describe(io, static_cast<ProfileJobSettings&>(c));
}

JobSummary run_update_job(LanguageModel& lm, const ProfileJobSettings& settings, const std::string& profiles,
                          const std::string& events, const std::string& output);

// `upm-update`: loads config.model and folds config.events into config.profiles.
JobSummary run_update_job(const UpdateJobConfig& config);

}  // namespace upm
