#pragma once
// The last step shared by every converter: DIR/log.jsonl, then (unless no
// split is wanted) the held-out split of split.h into the same DIR.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/split.h"
#include "upm/data/user_log.h"

namespace upm::data {

// Writes the log (and the split when `split` is given); returns
// {"log": log_stats, "split": split_summary}.
nlohmann::json write_converted(const std::vector<UserLog>& logs, const std::string& dir, const SplitConfig* split);

}  // namespace upm::data
