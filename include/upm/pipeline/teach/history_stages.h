#pragma once
// Where build-sft cuts a user's history (chronological events) into stages,
// and which stage a validation task belongs to.
//
// stages.split:
//   halves  two stages cut at stages.first_fraction (0.5) of the events, each
//           non-empty when there are two or more events; with
//           stages.update_rows false stage 1 is the whole history;
//   thirds  three stages of n/3 events each, the first (n mod 3) stages one
//           event longer (10 events: 4, 3, 3; 11: 4, 4, 3), as the published
//           AlignXplore+ recipe cuts it: round 1 reads stage 1, round 2 reads
//           stage 2, and stage 3 is read by no round (it holds round 2's
//           validation targets under validate.targets next_stage).
//
// A task carries no time of its own. `upm-data split` (and `upm-data
// recommend`) record the ids of the events a task was made from
// ("event_ids"); a task lies in stage s when every one of those ids names an
// event of stage s. A task without event_ids, with an id the history lacks,
// or with events in two stages lies in no stage.

#include <cstddef>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/data/benchmark.h"
#include "upm/data/event.h"

namespace upm {

struct StageConfig {
  std::string split = "halves";  // halves | thirds
  double first_fraction = 0.5;   // halves: share of a user's history in stage 1
  bool update_rows = true;       // round 2: previous profile + stage 2 -> updated profile
};

inline void describe(ConfigIO& io, StageConfig& c) {
  io.field("split", c.split).one_of({"halves", "thirds"});
  io.field("first_fraction", c.first_fraction).greater_than(0.0).at_most(1.0);
  io.field("update_rows", c.update_rows);
}

// Stage s holds events [begin(s), end(s)) of the chronological history;
// stage 3 is empty under halves.
struct StageBounds {
  size_t first_end = 0;   // stage 1: [0, first_end)
  size_t second_end = 0;  // stage 2: [first_end, second_end); stage 3: [second_end, n)
};

StageBounds stage_bounds(size_t events, const StageConfig& config);

// Per task, the stage (1, 2 or 3) its events lie in, 0 for none (above).
// `events` chronological, cut by `bounds`.
std::vector<int> task_stages(const std::vector<data::BenchmarkTask>& tasks, const std::vector<data::Event>& events,
                             const StageBounds& bounds);

}  // namespace upm
