// upm-data synth: seeded synthetic users with known latent preferences.
// The knobs are SynthConfig's keys (--config F, --set k=v; --users N is --set users=N).
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/data/synth.h"

namespace {

struct SynthOptions {
  upm::cli::ConfigOptions config;
  std::string output;
  std::string event_mix;  // "" = the config's mix
};

int run_synth(const SynthOptions& options) {
  auto config = upm::cli::load_job_config<upm::data::SynthConfig>(options.config);
  if (!options.event_mix.empty()) config.mix = upm::data::parse_event_mix(options.event_mix);
  auto world = upm::data::make_synthetic_world(config);
  upm::data::write_synthetic_world(world, options.output);
  spdlog::info("wrote {} users and {} items to {} (log.jsonl, truth.jsonl, items.jsonl)", world.logs.size(),
               world.items.size(), options.output);
  return upm::kExitOk;
}

upm::cli::RegisterSubcommand reg{
    "synth", "make synthetic users with known preferences: DIR/log.jsonl, truth.jsonl, items.jsonl", [](CLI::App& cmd) {
      auto opts = std::make_shared<SynthOptions>();
      cmd.add_option("--output", opts->output, "output directory")->required();
      upm::cli::add_config_options(cmd, opts->config, /*config_required=*/false);
      upm::cli::add_config_shortcuts(
          cmd, opts->config,
          {{"--users", "users", "number of users"},
           {"--seed", "seed", "random seed (same seed, same files)"},
           {"--items", "items", "number of items"},
           {"--min-events", "min_events", "fewest events per user"},
           {"--max-events", "max_events", "most events per user"},
           {"--utility-noise", "utility_noise", "sd of the noise on item utility"},
           {"--style-noise", "style_noise", "probability of choosing against the preferred style"},
           {"--category-first", "category_first",
            "write items as \"Category: topics | Title: description\" instead of \"Title | topics: description\"",
            "true"}});
      cmd.add_option("--event-mix", opts->event_mix,
                     "relative weights of the event kinds, e.g. chat_pair=0.45,rating=0.2 (unnamed kinds keep "
                     "the defaults rating=0.35,click=0.2,item_pair=0.1,chat_pair=0.2,statement=0.15)");
      return [opts] { return run_synth(*opts); };
    }};

}  // namespace
