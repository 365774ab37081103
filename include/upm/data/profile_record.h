#pragma once
// Profiles (docs/design.md): JSONL,
//   {"user_id", "profile", "version", "events_seen", "model", "created_at"}
// user_id and profile are required; version and events_seen are integers
// >= 0 (default 0); a (user_id, version) pair is unique within a file, so a
// file may hold the successive versions of a streaming profile.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/record_reader.h"

namespace upm::data {

struct ProfileRecord {
  std::string user_id;
  std::string profile;
  int64_t version = 0;
  int64_t events_seen = 0;
  std::string model;       // "" when absent
  std::string created_at;  // "" when absent
  nlohmann::json extra = nlohmann::json::object();
};

std::optional<ProfileRecord> parse_profile_record(const JsonlRecord& record, Problems& problems);

nlohmann::json to_json(const ProfileRecord& profile);

std::vector<ProfileRecord> read_profiles(const std::string& path, const ReadOptions& options = {},
                                         ReadReport* report = nullptr);

void write_profiles(const std::string& path, const std::vector<ProfileRecord>& profiles);

}  // namespace upm::data
