#include "upm/data/profile_record.h"

#include "field_reader.h"
#include "upm/core/atomic_file.h"

namespace upm::data {

std::optional<ProfileRecord> parse_profile_record(const JsonlRecord& record, Problems& problems) {
  const std::size_t before = problems.size();
  detail::FieldReader f(record, record.value, "", problems);
  auto user_id = f.string("user_id", true);
  // An empty profile is legal: a model may write nothing for a user.
  auto profile = f.string("profile", true, false);
  auto version = f.integer("version", false);
  auto events_seen = f.integer("events_seen", false);
  auto model = f.string("model", false, false);
  auto created_at = f.string("created_at", false, false);
  if (version && *version < 0) f.problem("version", "must be >= 0, got " + std::to_string(*version));
  if (events_seen && *events_seen < 0) {
    f.problem("events_seen", "must be >= 0, got " + std::to_string(*events_seen));
  }
  if (problems.size() != before) return std::nullopt;
  ProfileRecord out;
  out.user_id = *user_id;
  out.profile = *profile;
  out.version = version.value_or(0);
  out.events_seen = events_seen.value_or(0);
  out.model = model.value_or("");
  out.created_at = created_at.value_or("");
  out.extra = f.unknown_fields();
  return out;
}

nlohmann::json to_json(const ProfileRecord& p) {
  nlohmann::json j = p.extra;
  j["user_id"] = p.user_id;
  j["profile"] = p.profile;
  j["version"] = p.version;
  j["events_seen"] = p.events_seen;
  if (!p.model.empty()) j["model"] = p.model;
  if (!p.created_at.empty()) j["created_at"] = p.created_at;
  return j;
}

std::vector<ProfileRecord> read_profiles(const std::string& path, const ReadOptions& options, ReadReport* report) {
  return read_unique_records<ProfileRecord>(
      path, options, report, parse_profile_record,
      [](const ProfileRecord& p) {
        return "profile of user \"" + p.user_id + "\" version " + std::to_string(p.version);
      },
      "version");
}

void write_profiles(const std::string& path, const std::vector<ProfileRecord>& profiles) {
  AtomicFileWriter out(path);
  for (const auto& p : profiles) out.write(to_json(p).dump() + "\n");
  out.commit();
}

}  // namespace upm::data
