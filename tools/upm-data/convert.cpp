// upm-data convert debian-packages|movielens|pairwise: real public formats
// into the user log (DIR/log.jsonl) plus its held-out split in DIR (data/conversion.h).
#include <iostream>
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/data/conversion.h"

namespace {

using namespace upm::data;

struct ConvertOptions {
  ConvertJob job;
  bool no_split = false;
};

void add_common(CLI::App& cmd, ConvertOptions& o) {
  cmd.add_option("--output", o.job.output, "output directory (log.jsonl + split files)")->required();
  cmd.add_flag("--no-split", o.no_split, "write log.jsonl only");
  cmd.add_option("--seed", o.job.split_config.seed, "split seed");
  cmd.add_option("--val-fraction", o.job.split_config.val_fraction, "share of each user's events for validation")
      ->check(CLI::Range(0.0, 0.9));
  cmd.add_option("--test-fraction", o.job.split_config.test_fraction, "share of each user's events for test")
      ->check(CLI::Range(0.0, 0.9));
  cmd.add_option("--eval-user-fraction", o.job.split_config.eval_user_fraction, "share of users held out of training")
      ->check(CLI::Range(0.0, 1.0));
}

upm::cli::RegisterSubcommand reg{
    "convert", "convert a public dataset into a user log and its held-out split", [](CLI::App& cmd) {
      auto o = std::make_shared<ConvertOptions>();
      cmd.require_subcommand(1);
      auto* debian = cmd.add_subcommand("debian-packages", "Debian package records: maintainers and their packages");
      add_common(*debian, *o);
      debian->add_option("--input", o->job.input, "Deb822 file ('-' = stdin; default: run apt-cache dumpavail)");
      debian->add_option("--min-packages", o->job.debian.min_packages, "keep maintainers with at least this many")
          ->check(CLI::PositiveNumber);
      debian
          ->add_option("--max-packages", o->job.debian.max_packages,
                       "keep at most this many packages per user (0 = all)")
          ->check(CLI::NonNegativeNumber);
      auto* movielens = cmd.add_subcommand("movielens", "MovieLens ratings (ml-100k or ratings.csv/movies.csv layout)");
      add_common(*movielens, *o);
      movielens->add_option("--input", o->job.input, "folder with u.data + u.item or ratings.csv + movies.csv")
          ->required();
      auto* pairwise = cmd.add_subcommand("pairwise", "per-user prompt/chosen/rejected JSONL");
      add_common(*pairwise, *o);
      pairwise->add_option("--input", o->job.input, "JSONL of pairs or of users with \"pairs\"")->required();
      pairwise->add_option("--user-field", o->job.pairwise.user_field, "field naming the user");
      pairwise->add_option("--source", o->job.pairwise.source, "source of events that name none");
      pairwise->add_flag("--strict", o->job.strict, "fail (exit 2) on the first bad record");
      return [o, debian, movielens] {
        o->job.source = debian->parsed()      ? ConvertSource::debian_packages
                        : movielens->parsed() ? ConvertSource::movielens
                                              : ConvertSource::pairwise;
        o->job.split = !o->no_split;
        std::cout << run_convert_job(o->job).dump(2) << std::endl;
        return upm::kExitOk;
      };
    }};

}  // namespace
