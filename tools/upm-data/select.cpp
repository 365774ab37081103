// upm-data select: keep the lines of a per-user JSONL file whose user is (or is not) listed.
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/data/select_users.h"

namespace {

struct SelectOptions {
  std::string input, users, output;
  bool exclude = false;
};

upm::cli::RegisterSubcommand reg{
    "select", "keep the lines of a per-user JSONL file (logs, tasks, profiles) whose user_id is listed",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<SelectOptions>();
      cmd.add_option("--input", opts->input, "JSONL with a user_id per line")->required();
      cmd.add_option("--users", opts->users, "user ids, one per line (users_train.txt of upm-data split)")->required();
      cmd.add_option("--output", opts->output, "the kept lines, byte for byte")->required();
      cmd.add_flag("--exclude", opts->exclude, "keep the users NOT listed instead");
      return [opts] {
        auto report =
            upm::data::select_users(opts->input, upm::data::read_user_list(opts->users), opts->exclude, opts->output);
        spdlog::info("{}: kept {} of {} lines", opts->output, report.kept, report.lines);
        return upm::kExitOk;
      };
    }};

}  // namespace
