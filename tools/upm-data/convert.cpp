// upm-data convert debian-packages|movielens|pairwise: real public formats
// into the user log (DIR/log.jsonl) plus its held-out split in DIR.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <spdlog/spdlog.h>

#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/data/conversion.h"
#include "upm/data/debian_packages.h"
#include "upm/data/movielens.h"
#include "upm/data/pairwise_import.h"

namespace {

using namespace upm::data;

struct ConvertOptions {
  std::string output;
  bool no_split = false;
  bool strict = false;
  SplitConfig split;
  // debian-packages
  std::string deb_input;
  DebianConvertConfig debian;
  // movielens
  std::string movielens_dir;
  // pairwise
  std::string pairwise_input;
  PairwiseImportConfig pairwise;
};

void add_common(CLI::App& cmd, ConvertOptions& o) {
  cmd.add_option("--output", o.output, "output directory (log.jsonl + split files)")->required();
  cmd.add_flag("--no-split", o.no_split, "write log.jsonl only");
  cmd.add_option("--seed", o.split.seed, "split seed");
  cmd.add_option("--val-fraction", o.split.val_fraction, "share of each user's events for validation")
      ->check(CLI::Range(0.0, 0.9));
  cmd.add_option("--test-fraction", o.split.test_fraction, "share of each user's events for test")
      ->check(CLI::Range(0.0, 0.9));
  cmd.add_option("--eval-user-fraction", o.split.eval_user_fraction, "share of users held out of training")
      ->check(CLI::Range(0.0, 1.0));
}

// The Deb822 text: a file, "-" for stdin, or `apt-cache dumpavail` when none is given.
std::string deb822_text(const std::string& input) {
  std::ostringstream text;
  if (input == "-") {
    text << std::cin.rdbuf();
  } else if (!input.empty()) {
    std::ifstream in(input, std::ios::binary);
    if (!in) throw upm::InputError(upm::Location{input, 0, ""}, "cannot open");
    text << in.rdbuf();
  } else {
    FILE* pipe = popen("apt-cache dumpavail", "r");
    if (!pipe) throw upm::InputError("cannot run apt-cache dumpavail");
    char buffer[1 << 16];
    std::size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.write(buffer, static_cast<std::streamsize>(n));
    if (pclose(pipe) != 0) throw upm::InputError("apt-cache dumpavail failed (is apt installed and updated?)");
  }
  return text.str();
}

std::vector<UserLog> convert_debian(const ConvertOptions& o) {
  std::istringstream in(deb822_text(o.deb_input));
  auto stanzas = parse_deb822(in, o.deb_input.empty() ? "apt-cache dumpavail" : o.deb_input);
  DebianConvertReport report;
  auto logs = debian_packages_to_logs(stanzas, o.debian, &report);
  spdlog::info("{} stanzas, {} packages ({} duplicates, {} without maintainer), {} maintainers, {} with >= {} packages",
               report.stanzas, report.packages, report.duplicates, report.without_maintainer, report.maintainers,
               report.users_kept, o.debian.min_packages);
  return logs;
}

std::vector<UserLog> convert_movielens(const ConvertOptions& o) {
  MovieLensReport report;
  auto logs = movielens_to_logs(o.movielens_dir, &report);
  spdlog::info("MovieLens ({} layout): {} ratings by {} users of {} movies ({} duplicate ratings skipped)",
               report.layout, report.ratings, report.users, report.movies, report.duplicates);
  return logs;
}

std::vector<UserLog> convert_pairwise(const ConvertOptions& o) {
  ReadOptions read;
  read.strict = o.strict;
  read.rejects_path = o.output + "/rejects.jsonl";
  upm::make_directories(o.output);
  ReadReport report;
  auto logs = pairwise_to_logs(o.pairwise_input, o.pairwise, read, &report);
  for (const auto& problem : report.problems) spdlog::warn("rejected: {}", problem);
  spdlog::info("{} records, {} rejected, {} users", report.records, report.rejected, logs.size());
  return logs;
}

upm::cli::RegisterSubcommand reg{
    "convert", "convert a public dataset into a user log and its held-out split",
    [](CLI::App& cmd) {
      auto o = std::make_shared<ConvertOptions>();
      cmd.require_subcommand(1);
      auto* debian = cmd.add_subcommand("debian-packages", "Debian package records: maintainers and their packages");
      add_common(*debian, *o);
      debian->add_option("--input", o->deb_input, "Deb822 file ('-' = stdin; default: run apt-cache dumpavail)");
      debian->add_option("--min-packages", o->debian.min_packages, "keep maintainers with at least this many")
          ->check(CLI::PositiveNumber);
      auto* movielens = cmd.add_subcommand("movielens", "MovieLens ratings (ml-100k or ratings.csv/movies.csv layout)");
      add_common(*movielens, *o);
      movielens->add_option("--input", o->movielens_dir, "folder with u.data + u.item or ratings.csv + movies.csv")
          ->required();
      auto* pairwise = cmd.add_subcommand("pairwise", "per-user prompt/chosen/rejected JSONL");
      add_common(*pairwise, *o);
      pairwise->add_option("--input", o->pairwise_input, "JSONL of pairs or of users with \"pairs\"")->required();
      pairwise->add_option("--user-field", o->pairwise.user_field, "field naming the user");
      pairwise->add_option("--source", o->pairwise.source, "source of events that name none");
      pairwise->add_flag("--strict", o->strict, "fail (exit 2) on the first bad record");
      return [o, debian, movielens, pairwise] {
        std::vector<UserLog> logs = debian->parsed()      ? convert_debian(*o)
                                    : movielens->parsed() ? convert_movielens(*o)
                                                          : convert_pairwise(*o);
        nlohmann::json summary = write_converted(logs, o->output, o->no_split ? nullptr : &o->split);
        std::cout << summary.dump(2) << std::endl;
        return upm::kExitOk;
      };
    }};

}  // namespace
