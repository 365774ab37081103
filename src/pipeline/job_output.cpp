#include "upm/pipeline/job_output.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/file_lock.h"
#include "upm/core/jsonl.h"
#include "upm/core/random.h"
#include "upm/core/rank_env.h"

namespace upm {

bool Shard::owns(const std::string& user_id) const {
  return world_size <= 1 || int(stable_hash(user_id) % uint64_t(world_size)) == rank;
}

namespace {

// Scans an existing file (already repaired by AppendFile) for what is done.
template <class Visit>
size_t scan(const std::string& path, Visit visit) {
  if (!std::filesystem::exists(path)) return 0;
  JsonlReader reader(path);
  size_t count = 0;
  while (auto record = reader.next()) {
    if (!record->ok()) continue;  // only whole lines are ours; a foreign bad line is left alone
    visit(record->value);
    ++count;
  }
  return count;
}

}  // namespace

Shard shard_from_env() {
  const RankEnv env = rank_env_from_environment();
  return Shard{env.rank, env.world_size};
}

JobOutput::JobOutput(const std::string& output, const Shard& shard) {
  path_ = output;
  if (shard.world_size > 1) {
    path_ += ".rank" + std::to_string(shard.rank) + "-of-" + std::to_string(shard.world_size);
  }
  errors_path_ = path_ + ".errors.jsonl";
  const auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) make_directories(parent.string());
  // Before the files are opened: opening repairs a torn tail, which must not
  // cut another writer's line in half.
  lock_ = std::make_unique<FileLock>(path_ + ".lock", path_);
  records_ = std::make_unique<AppendFile>(path_);
  errors_ = std::make_unique<AppendFile>(errors_path_);
  records_before_ = scan(path_, [&](const nlohmann::json& j) {
    if (j.contains("user_id") && j["user_id"].is_string()) done_users_.insert(j["user_id"].get<std::string>());
  });
  errors_before_ = scan(errors_path_, [&](const nlohmann::json& j) {
    if (j.contains("line") && j["line"].is_number_unsigned()) done_lines_.insert(j["line"].get<size_t>());
  });
}

JobOutput::~JobOutput() = default;

void JobOutput::write_record(const nlohmann::json& record) {
  records_->append_line(record.dump());
  records_->sync();
  done_users_.insert(record.at("user_id").get<std::string>());
}

void JobOutput::write_error(const std::string& user_id, const std::string& file, size_t line,
                            const std::string& problem) {
  nlohmann::json j = {{"user_id", user_id}, {"file", file}, {"line", line}, {"problem", problem}};
  errors_->append_line(j.dump());
  errors_->sync();
  done_lines_.insert(line);
}

JobSummary JobOutput::new_summary() const {
  JobSummary summary;
  summary.output_path = path_;
  summary.errors_path = errors_path_;
  return summary;
}

int job_exit_code(const JobSummary& summary, const std::string& job, const std::string& input) {
  if (summary.input_users == 0) {
    spdlog::warn("{}: {} holds no records: nothing to do", job, input);
    return kExitOk;
  }
  if (summary.written == 0 && summary.errors > 0) {
    spdlog::error("{}: no record succeeded: 0 written, {} errors (reasons in {})", job, summary.errors,
                  summary.errors_path);
    return kExitBadInput;
  }
  return kExitOk;
}

bool JobAdmission::admit(const std::string& user_id, size_t line) { return decide(user_id, line, true); }

bool JobAdmission::admit_bad_record(const std::string& user_id, size_t line) { return decide(user_id, line, false); }

bool JobAdmission::decide(const std::string& user_id, size_t line, bool by_user) {
  ++summary_.input_users;
  if (!shard_.owns(user_id)) {
    ++summary_.other_rank;
    return false;
  }
  if ((by_user && out_.user_done(user_id)) || (line > 0 && out_.line_done(line))) {
    ++summary_.already_done;
    return false;
  }
  if (max_users_ > 0 && started_ >= max_users_) summary_.stopped_early = true;
  if (summary_.stopped_early) return false;
  ++started_;
  return true;
}

}  // namespace upm
