#include "upm/data/conversion.h"

#include "upm/core/atomic_file.h"
#include "upm/data/stats.h"

namespace upm::data {

nlohmann::json write_converted(const std::vector<UserLog>& logs, const std::string& dir, const SplitConfig* split) {
  make_directories(dir);
  write_user_logs(dir + "/log.jsonl", logs);
  nlohmann::json summary = {{"log", log_stats(logs)}};
  if (split) {
    SplitResult result = split_logs(logs, *split);
    write_split(result, *split, dir);
    summary["split"] = split_summary(result);
  }
  return summary;
}

}  // namespace upm::data
