#include "upm/pipeline/profile/profile_state.h"

#include <ctime>
#include <map>

#include "upm/core/error.h"

namespace upm {

std::vector<std::string> seen_event_ids(const data::ProfileRecord& record) {
  auto it = record.extra.find("event_ids");
  if (it == record.extra.end() || it->is_null()) return {};
  std::vector<std::string> ids;
  bool ok = it->is_array();
  if (ok) {
    for (const auto& id : *it) {
      if (!id.is_string())
        ok = false;
      else
        ids.push_back(id.get<std::string>());
    }
  }
  if (!ok) {
    throw InputError(Location{"", 0, "event_ids"},
                     "profile of user \"" + record.user_id + "\": expected a list of event id strings");
  }
  return ids;
}

void set_seen_event_ids(data::ProfileRecord& record, const std::vector<std::string>& ids) {
  record.extra["event_ids"] = ids;
  record.events_seen = int64_t(ids.size());
}

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::vector<data::ProfileRecord> latest_versions(const std::vector<data::ProfileRecord>& records) {
  std::map<std::string, size_t> latest;
  std::vector<std::string> order;
  for (size_t i = 0; i < records.size(); ++i) {
    auto [it, fresh] = latest.emplace(records[i].user_id, i);
    if (fresh)
      order.push_back(records[i].user_id);
    else if (records[i].version >= records[it->second].version)
      it->second = i;
  }
  std::vector<data::ProfileRecord> out;
  for (const auto& user : order) out.push_back(records[latest[user]]);
  return out;
}

}  // namespace upm
