#pragma once
// The resumable output of a per-user job (upm-profile, upm-update): records
// appended one line at a time (core AppendFile: a torn last line left by a
// kill is cut off on reopen) to OUTPUT, and problems to OUTPUT.errors.jsonl,
//   {"user_id", "file", "line", "problem"}
// On open both files are scanned: a user with a record in OUTPUT, or an input
// line with an error, is done and is skipped by a rerun, so a kill loses
// nothing and a rerun duplicates nothing. OUTPUT.lock (core/file_lock.h) is
// held while the files are open: a second job on the same OUTPUT exits 2 at
// once, naming the first one's PID.
//
// Ranks (RANK / WORLD_SIZE, as torchrun sets): a user belongs to rank
// fnv1a(user_id) % WORLD_SIZE, and rank r of W writes its own files,
// OUTPUT.rank<r>-of-<W> (+ .errors.jsonl), so ranks never share a file; the
// union of the parts is the whole result (`cat OUTPUT.rank*-of-W > OUTPUT`).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace upm {

class AppendFile;
class FileLock;

struct Shard {
  int rank = 0;
  int world_size = 1;
  bool owns(const std::string& user_id) const;
};

// From RANK and WORLD_SIZE (core/rank_env.h; absent: rank 0 of 1); InputError
// if malformed or inconsistent.
Shard shard_from_env();

struct JobSummary {
  int64_t input_users = 0;     // records of the input seen by this rank (incl. other ranks' users)
  int64_t other_rank = 0;      // left to other ranks
  int64_t already_done = 0;    // skipped: done by an earlier run
  int64_t written = 0;         // records written by this run
  int64_t errors = 0;          // errors written by this run
  int64_t kept = 0;            // upm-update: failed updates whose previous profile was written (also in errors)
  bool stopped_early = false;  // max_users reached
  std::string output_path, errors_path;
};

class JobOutput {
 public:
  JobOutput(const std::string& output, const Shard& shard);
  ~JobOutput();

  bool user_done(const std::string& user_id) const { return done_users_.count(user_id) > 0; }
  bool line_done(size_t input_line) const { return done_lines_.count(input_line) > 0; }

  // Appends one record (it must have "user_id") and forces it to disk.
  void write_record(const nlohmann::json& record);
  void write_error(const std::string& user_id, const std::string& file, size_t line, const std::string& problem);

  // A summary naming this output's files.
  JobSummary new_summary() const;

  const std::string& path() const { return path_; }
  const std::string& errors_path() const { return errors_path_; }
  size_t records_before() const { return records_before_; }  // found on open
  size_t errors_before() const { return errors_before_; }

 private:
  std::string path_, errors_path_;
  std::unique_ptr<FileLock> lock_;  // declared first: released after the files are closed
  std::unique_ptr<AppendFile> records_, errors_;
  std::set<std::string> done_users_;
  std::set<size_t> done_lines_;
  size_t records_before_ = 0, errors_before_ = 0;
};

// Decides record by record whether this run handles a user: owned by this
// rank, not done by an earlier run, within `max_users` (0 = no limit).
// Counts every decision into the summary.
class JobAdmission {
 public:
  JobAdmission(const Shard& shard, const JobOutput& out, int64_t max_users, JobSummary& summary)
      : shard_(shard), out_(out), max_users_(max_users), summary_(summary) {}
  // `line` 0: the record has no input line (never in the errors file).
  bool admit(const std::string& user_id, size_t line);
  // A bad input record: done when its LINE has an error already (its user id
  // may also have a good record, e.g. a duplicate line).
  bool admit_bad_record(const std::string& user_id, size_t line);
  bool stopped() const { return summary_.stopped_early; }

 private:
  bool decide(const std::string& user_id, size_t line, bool by_user);

  const Shard& shard_;
  const JobOutput& out_;
  int64_t max_users_;
  JobSummary& summary_;
  int64_t started_ = 0;
};

// The exit code of a finished job (error.h): 2 with a summary line on stderr
// when it had records to do and none succeeded (nothing written, errors
// only: an input of garbage, a model that writes nothing usable); 0 with a
// warning when INPUT held no record at all; 0 otherwise.
int job_exit_code(const JobSummary& summary, const std::string& job, const std::string& input);

}  // namespace upm
