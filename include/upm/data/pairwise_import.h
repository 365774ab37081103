#pragma once
// Per-user preference pairs in the prompt/chosen/rejected layout of
// personalized-alignment datasets, as a user log. Input JSONL, either one
// pair per line
//   {"user_id": "u1", "prompt": "...", "chosen": "...", "rejected": "...", "id"?, "ts"?}
// or one user per line
//   {"user_id": "u1", "pairs": [{"prompt", "chosen", "rejected", ...}, ...]}
// Each pair becomes a `pairwise` event (prompt -> context; "timestamp" is
// taken as ts when "ts" is absent; other fields kept). Pairs without an id
// get "p<n>" (n counts the user's pairs). Users keep their first-seen order.
// Bad pairs are validated like log events (strict or skip + rejects).

#include <string>
#include <vector>

#include "upm/data/record_reader.h"
#include "upm/data/user_log.h"

namespace upm::data {

struct PairwiseImportConfig {
  std::string user_field = "user_id";  // e.g. "persona_id" in other datasets
  std::string source = "pairwise";     // source of events that name none
};

std::vector<UserLog> pairwise_to_logs(const std::string& path, const PairwiseImportConfig& config,
                                      const ReadOptions& options = {}, ReadReport* report = nullptr);

}  // namespace upm::data
