#pragma once
// The pipeline's view of a profile record (data/profile_record.h): which
// events it has folded in. docs/design.md's "events_seen" stays the COUNT (the data
// layer's schema); the ids themselves are kept in an extra field
//   "event_ids": ["e1", "e2", ...]
// so that the streaming updater can skip events it has already seen and
// re-applying a batch is a no-op.

#include <set>
#include <string>
#include <vector>

#include "upm/data/profile_record.h"

namespace upm {

// Ids recorded in `record` ("event_ids"; empty when absent). InputError if the
// field is there but not a list of strings.
std::vector<std::string> seen_event_ids(const data::ProfileRecord& record);

// Sets "event_ids" and events_seen (= ids.size()).
void set_seen_event_ids(data::ProfileRecord& record, const std::vector<std::string>& ids);

// The current time as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_timestamp();

// The latest version of each user's profile in `records`.
std::vector<data::ProfileRecord> latest_versions(const std::vector<data::ProfileRecord>& records);

}  // namespace upm
