#pragma once
// `upm-data convert`: a public dataset (Debian package records, MovieLens,
// per-user pairwise JSONL) into DIR/log.jsonl, then (unless no split is
// wanted) the held-out split of split.h into the same DIR.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/debian_packages.h"
#include "upm/data/pairwise_import.h"
#include "upm/data/split.h"
#include "upm/data/user_log.h"

namespace upm::data {

// Writes the log (and the split when `split` is given); returns
// {"log": log_stats, "split": split_summary}.
nlohmann::json write_converted(const std::vector<UserLog>& logs, const std::string& dir, const SplitConfig* split);

enum class ConvertSource { debian_packages, movielens, pairwise };

struct ConvertJob {
  ConvertSource source = ConvertSource::debian_packages;
  // debian-packages: a Deb822 file, "-" for stdin, "" to run `apt-cache dumpavail`;
  // movielens: the folder (u.data + u.item or ratings.csv + movies.csv);
  // pairwise: JSONL of pairs or of users with "pairs".
  std::string input;
  std::string output;  // DIR
  bool split = true;   // false: DIR/log.jsonl only
  SplitConfig split_config;
  DebianConvertConfig debian;
  PairwiseImportConfig pairwise;
  bool strict = false;  // pairwise: the first bad record is an InputError (else DIR/rejects.jsonl)
};

// The Deb822 text behind ConvertJob::input for debian-packages.
std::string read_deb822_text(const std::string& input);

// Converts (logging what the converter counted), writes as write_converted
// and returns its summary.
nlohmann::json run_convert_job(const ConvertJob& job);

}  // namespace upm::data
