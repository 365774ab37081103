// upm-data embed-pairs: the training data of `upm-train embed` from full user
// logs. Per user, the newest positive events whose source has a query leave
// the history and become (user, query, positive) pairs, so the model learns
// to infer behaviour it cannot copy from the history it reads.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/data/user_log.h"
#include "upm/train/embed_data.h"

namespace {

struct EmbedPairsOptions {
  std::string input, output;
  std::vector<std::string> queries;
  int64_t per_user = 4;
  double min_rating = 0.75;
};

// "SOURCE=QUERY TEXT" -> {SOURCE, QUERY TEXT}.
std::map<std::string, std::string> parse_queries(const std::vector<std::string>& specs) {
  std::map<std::string, std::string> out;
  for (const auto& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      throw upm::InputError(upm::Location{"--query", 0, ""}, "expected SOURCE=QUERY TEXT, got \"" + spec + "\"");
    }
    if (!out.emplace(spec.substr(0, eq), spec.substr(eq + 1)).second) {
      throw upm::InputError(upm::Location{"--query", 0, ""}, "source \"" + spec.substr(0, eq) + "\" given twice");
    }
  }
  return out;
}

upm::cli::RegisterSubcommand reg{
    "embed-pairs", "hold out each user's newest positive behaviour as Q-Anchor training pairs (upm-train embed)",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<EmbedPairsOptions>();
      cmd.add_option("--input", opts->input, "full user logs (JSONL)")->required();
      cmd.add_option("--output", opts->output,
                     "folder: histories.jsonl (logs without the held-out events), pairs.jsonl")
          ->required();
      cmd.add_option(
             "--query", opts->queries,
             "SOURCE=QUERY: events of SOURCE answer QUERY (repeat per source; other sources stay in the history)")
          ->required();
      cmd.add_option("--per-user", opts->per_user, "held-out positives per user, newest first")
          ->check(CLI::PositiveNumber);
      cmd.add_option("--min-rating", opts->min_rating, "a rating counts as positive at this share of its scale")
          ->check(CLI::Range(0.0, 1.0));
      return [opts] {
        upm::HoldoutOptions ho;
        ho.per_user = opts->per_user;
        ho.min_rating = opts->min_rating;
        ho.queries = parse_queries(opts->queries);
        upm::HeldOut held = upm::hold_out_positives(upm::data::read_user_logs(opts->input), ho);
        std::filesystem::create_directories(opts->output);
        const std::string histories = opts->output + "/histories.jsonl", pairs = opts->output + "/pairs.jsonl";
        upm::data::write_user_logs(histories, held.histories);
        upm::write_embed_pairs(pairs, held.pairs);
        spdlog::info("{} users, {} pairs -> {}, {}", held.histories.size(), held.pairs.size(), histories, pairs);
        return upm::kExitOk;
      };
    }};

}  // namespace
