// upm-data synth: seeded synthetic users with known latent preferences.
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/data/synth.h"

namespace {

struct SynthOptions {
  upm::data::SynthConfig config;
  std::string output;
  std::string event_mix;  // "" = the default mix
};

int run_synth(SynthOptions options) {
  if (!options.event_mix.empty()) options.config.mix = upm::data::parse_event_mix(options.event_mix);
  auto world = upm::data::make_synthetic_world(options.config);
  upm::data::write_synthetic_world(world, options.output);
  spdlog::info("wrote {} users and {} items to {} (log.jsonl, truth.jsonl, items.jsonl)", world.logs.size(),
               world.items.size(), options.output);
  return upm::kExitOk;
}

upm::cli::RegisterSubcommand reg{
    "synth", "make synthetic users with known preferences: DIR/log.jsonl, truth.jsonl, items.jsonl",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<SynthOptions>();
      auto& c = opts->config;
      cmd.add_option("--users", c.users, "number of users")->check(CLI::PositiveNumber);
      cmd.add_option("--seed", c.seed, "random seed (same seed, same files)");
      cmd.add_option("--output", opts->output, "output directory")->required();
      cmd.add_option("--items", c.items, "number of items")->check(CLI::Range(10, 1000000));
      cmd.add_option("--min-events", c.min_events, "fewest events per user")->check(CLI::PositiveNumber);
      cmd.add_option("--max-events", c.max_events, "most events per user")->check(CLI::PositiveNumber);
      cmd.add_option("--utility-noise", c.utility_noise, "sd of the noise on item utility")
          ->check(CLI::NonNegativeNumber);
      cmd.add_option("--style-noise", c.style_noise, "probability of choosing against the preferred style")
          ->check(CLI::Range(0.0, 1.0));
      cmd.add_option("--event-mix", opts->event_mix,
                     "relative weights of the event kinds, e.g. chat_pair=0.45,rating=0.2 (unnamed kinds keep "
                     "the defaults rating=0.35,click=0.2,item_pair=0.1,chat_pair=0.2,statement=0.15)");
      cmd.add_flag("--category-first", c.category_first,
                   "write items as \"Category: topics | Title: description\" instead of \"Title | topics: description\"");
      return [opts] { return run_synth(*opts); };
    }};

}  // namespace
