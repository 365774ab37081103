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
upm::cli::RegisterSubcommand echo_code{"echo-code", "returns --code as the exit code",
                                       [](CLI::App& cmd) {
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
  EXPECT_EQ(run_tool({"upm-test"}), 2);                          // no subcommand
  EXPECT_EQ(run_tool({"upm-test", "echo-code"}), 2);             // missing --code
  EXPECT_EQ(run_tool({"upm-test", "no-such-command"}), 2);
}

}  // namespace
