#include "upm/core/cli.h"

#include "test_util.h"
#include "upm/core/error.h"
#include "upm/core/progress.h"

namespace {

int run_app(std::vector<std::string> args, const std::function<int()>& body) {
  CLI::App app{"test tool", "upm-test"};
  upm::cli::ConfigOptions options;
  upm::cli::add_config_options(app, options, false);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return upm::cli::run(app, static_cast<int>(argv.size()), argv.data(), body);
}

TEST(Cli, ExitCodesFollowTheContract) {
  EXPECT_EQ(run_app({"upm-test"}, [] { return 0; }), 0);
  EXPECT_EQ(run_app({"upm-test", "--help"}, [] { return 0; }), 0);
  EXPECT_EQ(run_app({"upm-test", "--no-such-flag"}, [] { return 0; }), 2);
  EXPECT_EQ(run_app({"upm-test"}, []() -> int { throw upm::InputError("bad record"); }), 2);
  EXPECT_EQ(run_app({"upm-test"}, []() -> int { throw upm::Error("bug"); }), 1);
  EXPECT_EQ(run_app({"upm-test"}, []() -> int { throw std::runtime_error("bug"); }), 1);
}

struct ShortcutJob {
  std::string run_dir;
  std::string model = "default-model";
  int steps = 1;
};

void describe(upm::ConfigIO& io, ShortcutJob& c) {
  io.field("run_dir", c.run_dir).required();
  io.field("model", c.model);
  io.field("steps", c.steps);
}

// Parses `args` for a job with --config/--set and the --model/--output shortcuts.
upm::cli::ConfigOptions parse_job(std::vector<std::string> args) {
  CLI::App app{"test job", "upm-test"};
  upm::cli::ConfigOptions options;
  upm::cli::add_config_options(app, options, false);
  upm::cli::add_config_shortcuts(app, options, {{"--model", "model", "model folder"}, {"--output", "run_dir", "run"}});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return options;
}

TEST(Cli, ShortcutsAreExactlySetOfTheirKey) {
  auto options = parse_job({"upm-test", "--output", "runs/a", "--set", "steps=3"});
  EXPECT_EQ(options.assignments(), (std::vector<std::string>{"run_dir=runs/a", "steps=3"}));
  auto job = upm::cli::load_job_config<ShortcutJob>(options);  // no --config: the defaults
  EXPECT_EQ(job.run_dir, "runs/a");
  EXPECT_EQ(job.model, "default-model");
  EXPECT_EQ(job.steps, 3);
  // An explicit --set of the same key wins, wherever it stands.
  job = upm::cli::load_job_config<ShortcutJob>(
      parse_job({"upm-test", "--set", "model=m2", "--model", "m1", "--output", "r"}));
  EXPECT_EQ(job.model, "m2");
  UPM_EXPECT_THROW_WITH(upm::cli::load_job_config<ShortcutJob>(parse_job({"upm-test"})), upm::InputError, "run_dir");
}

TEST(Cli, AFlagShortcutSetsItsFixedValue) {
  CLI::App app{"test job", "upm-test"};
  upm::cli::ConfigOptions options;
  upm::cli::add_config_shortcuts(app, options, {{"--fast", "steps", "one step", "1"}});
  std::vector<std::string> args{"upm-test", "--fast"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(options.assignments(), (std::vector<std::string>{"steps=1"}));
}

TEST(Cli, ShortcutHelpNamesTheKey) {
  CLI::App app{"test job", "upm-test"};
  upm::cli::ConfigOptions options;
  upm::cli::add_config_shortcuts(app, options, {{"--output", "run_dir", "run folder"}});
  EXPECT_NE(app.help().find("run folder (= --set run_dir=...)"), std::string::npos) << app.help();
}

TEST(Progress, StatusLineShowsCountsRateAndEta) {
  upm::Progress progress("profiling", 10, "users", 1e9);
  progress.advance(5);
  std::string line = progress.status_line();
  EXPECT_NE(line.find("profiling ["), std::string::npos) << line;
  EXPECT_NE(line.find("5/10 users (50%)"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  progress.finish();
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(upm::format_duration(7), "7s");
  EXPECT_EQ(upm::format_duration(245), "4m05s");
  EXPECT_EQ(upm::format_duration(3723), "1h02m03s");
  EXPECT_EQ(upm::format_duration(-1), "?");
}

}  // namespace

namespace {

// A subcommand registered the way tools/upm-*/ files do it.
upm::cli::RegisterSubcommand echo_code{"echo-code", "returns --code as the exit code", [](CLI::App& cmd) {
                                         auto code = std::make_shared<int>(0);
                                         cmd.add_option("--code", *code)->required();
                                         return [code] { return *code; };
                                       }};

int run_tool(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return upm::cli::run_subcommands("upm-test", "test", static_cast<int>(argv.size()), argv.data());
}

TEST(Cli, RegisteredSubcommandsDispatch) {
  EXPECT_EQ(run_tool({"upm-test", "echo-code", "--code", "0"}), 0);
  EXPECT_EQ(run_tool({"upm-test", "echo-code", "--code", "7"}), 7);
  EXPECT_EQ(run_tool({"upm-test"}), 2);               // no subcommand
  EXPECT_EQ(run_tool({"upm-test", "echo-code"}), 2);  // missing --code
  EXPECT_EQ(run_tool({"upm-test", "no-such-command"}), 2);
}

}  // namespace
