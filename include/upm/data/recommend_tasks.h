#pragma once
// Recommendation tasks on a split (`upm-data recommend`): the published
// next-item protocol as two-option tasks. Each held-out rating of a user
// becomes "which item did this user go on to rate?": the rated item against
// one the user never rated at all (in any part of the log).
//
// The negative is sampled so that popularity does not give the answer away.
// Popularity is the number of ratings an item has from the TRAINING users
// (all their parts; held-out users never count). The training ratings, ordered
// by their item's popularity, are cut into `popularity_bins` bins of equal
// rating mass (items of equal popularity share a bin), and the negative is the
// item of a random training rating from the positive's bin. A positive is
// itself a rating, so positives fall into the bins in proportion to their
// rating mass and the negative, drawn in proportion to popularity within the
// same bin, has (nearly) the positive's popularity distribution. An item no
// training user rated is in the lowest bin. The check is measured and written:
// the accuracy of "pick the more popular option" (ties count one half).
//
// The preference pairs of `upm-data split` (kind "rating": of two later
// ratings, which is higher) are kept beside them, so both task forms go into
// one benchmark, told apart by the task's "kind" ("rating" / "recommend").

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/data/benchmark.h"
#include "upm/data/user_log.h"

namespace upm::data {

struct RecommendConfig {
  int64_t popularity_bins = 10;
  // > 0: at most this many tasks of each form per user and part (the
  // earliest held-out ratings; split's clearest preference pairs first).
  int64_t max_tasks_per_user = 0;
  int64_t seed = 0;
};

// One part (validation or test) of a split.
struct RecommendPart {
  std::vector<UserLog> held_out;          // the part's events per user (val_events / test_events)
  std::vector<BenchmarkTask> pair_tasks;  // split's tasks of the part (kept: kind "rating"; capped)
};

struct RecommendResult {
  std::vector<BenchmarkTask> tasks;  // pairs (capped) then recommendation tasks, ids unique
  nlohmann::json summary;            // counts, popularity baseline accuracy, bin edges
};

// Popularity per item from the training users' ratings in `logs` (every
// part of each training user: pass history, validation and test logs).
class PopularityBins {
 public:
  PopularityBins(const std::vector<const std::vector<UserLog>*>& parts, const std::vector<std::string>& train_users,
                 int64_t bins);
  int64_t count(const std::string& item) const;
  int64_t bin(const std::string& item) const;
  // The item of a random training rating in `bin`; "" if the bin is empty.
  const std::string& draw(int64_t bin, uint64_t random) const;
  int64_t bins() const { return static_cast<int64_t>(pool_.size()); }
  nlohmann::json describe() const;  // per bin: ratings, items, popularity range

 private:
  std::vector<std::pair<std::string, int64_t>> counts_;  // sorted by item
  std::vector<std::vector<std::string>> pool_;           // per bin: one entry per training rating
  std::vector<int64_t> low_, high_;                      // per bin: popularity range
  std::vector<std::pair<std::string, int64_t>> bin_of_;  // sorted by item
};

// Builds one part's tasks. `all_items` holds, per user id, every item the
// user rated or touched in any part (negatives are never among them).
// Task ids: <user>-<part>-pair-<n> / <user>-<part>-rec-<n>.
RecommendResult recommend_tasks(const RecommendPart& part, const std::string& part_name,
                                const PopularityBins& popularity,
                                const std::map<std::string, std::set<std::string>>& all_items,
                                const RecommendConfig& config);

// `upm-data recommend`: reads SPLIT/{history,val_events,test_events,val,test}.jsonl
// and SPLIT/users_train.txt, writes OUT/{val,test}.jsonl and OUT/recommend.json;
// returns recommend.json's content.
nlohmann::json write_recommend_tasks(const std::string& split_dir, const std::string& output_dir,
                                     const RecommendConfig& config);

}  // namespace upm::data
