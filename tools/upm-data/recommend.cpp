// upm-data recommend: next-item recommendation tasks (a later-rated item vs a
// popularity-matched item the user never rated) beside split's preference
// pairs, one benchmark per part.
#include <iostream>
#include <memory>

#include "upm/core/cli.h"
#include "upm/data/recommend_tasks.h"

namespace {

struct RecommendOptions {
  upm::data::RecommendConfig config;
  std::string split, output;
};

upm::cli::RegisterSubcommand reg{
    "recommend",
    "recommendation tasks (later-rated item vs a never-rated item of the same popularity bin among training "
    "users' ratings) plus split's preference pairs: OUT/{val,test}.jsonl, OUT/recommend.json",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<RecommendOptions>();
      auto& c = opts->config;
      cmd.add_option("--split", opts->split, "folder written by upm-data split")->required();
      cmd.add_option("--output", opts->output, "output folder")->required();
      cmd.add_option("--popularity-bins", c.popularity_bins,
                     "bins of equal rating mass by training-user popularity; the negative comes from the positive's")
          ->check(CLI::Range(1, 1000));
      cmd.add_option("--max-tasks-per-user", c.max_tasks_per_user,
                     "at most this many tasks of each form per user and part (0: all)")
          ->check(CLI::NonNegativeNumber);
      cmd.add_option("--seed", c.seed, "random seed for negatives and option order");
      return [opts] {
        std::cout << upm::data::write_recommend_tasks(opts->split, opts->output, opts->config).dump(2) << std::endl;
        return upm::kExitOk;
      };
    }};

}  // namespace
