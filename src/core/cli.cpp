#include "upm/core/cli.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "upm/core/allocator.h"
#include "upm/core/error.h"
#include "upm/core/json_limits.h"
#include "upm/core/log.h"

namespace upm::cli {

void add_config_options(CLI::App& app, ConfigOptions& options, bool config_required) {
  auto* config = app.add_option("--config", options.config, "JSON config file");
  if (config_required) config->required();
  app.add_option("--set", options.overrides, "override a config key, e.g. --set optimizer.lr=1e-5 (repeatable)")
      ->take_all();
}

std::vector<std::string> ConfigOptions::assignments() const {
  std::vector<std::string> out = shortcuts;
  out.insert(out.end(), overrides.begin(), overrides.end());
  return out;
}

void add_config_shortcuts(CLI::App& app, ConfigOptions& options, const std::vector<ConfigShortcut>& shortcuts) {
  for (const auto& shortcut : shortcuts) {
    if (!shortcut.flag_value.empty()) {
      const std::string assignment = shortcut.key + "=" + shortcut.flag_value;
      app.add_flag_function(
          shortcut.flag, [&options, assignment](int64_t) { options.shortcuts.push_back(assignment); },
          shortcut.description + " (= --set " + assignment + ")");
      continue;
    }
    app.add_option_function<std::string>(
           shortcut.flag,
           [&options, key = shortcut.key](const std::string& value) { options.shortcuts.push_back(key + "=" + value); },
           shortcut.description + " (= --set " + shortcut.key + "=...)")
        ->type_name("TEXT");
  }
}

int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  std::string log_level = "info";
  if (!app.get_option_no_throw("--log-level")) {
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  }
  int json_depth = kDefaultMaxJsonDepth;
  if (!app.get_option_no_throw("--max-json-depth")) {
    app.add_option("--max-json-depth", json_depth,
                   "deepest nesting accepted in JSON input (records, configs, requests); deeper is a bad record")
        ->check(CLI::PositiveNumber);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help or the usage error
    return code == 0 ? kExitOk : kExitBadInput;
  }
  try {
    set_max_json_depth(json_depth);
    init_logging(LogOptions{log_level, ""});
    tune_allocator();
    return body();
  } catch (const std::exception& e) {
    int code = exit_code_for(e);
    std::fprintf(stderr, "%s: %s%s\n", app.get_name().c_str(),
                 code == kExitInternal ? "internal error: " : "error: ", e.what());
    return code;
  } catch (...) {
    std::fprintf(stderr, "%s: internal error: unknown exception\n", app.get_name().c_str());
    return kExitInternal;
  }
}

namespace {
std::vector<SubcommandSpec>& registry() {
  static std::vector<SubcommandSpec> specs;
  return specs;
}
}  // namespace

RegisterSubcommand::RegisterSubcommand(std::string name, std::string description,
                                       std::function<SubcommandAction(CLI::App& cmd)> define) {
  registry().push_back(SubcommandSpec{std::move(name), std::move(description), std::move(define)});
}

int run_subcommands(const std::string& tool, const std::string& description, int argc, char** argv) {
  CLI::App app{description, tool};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, SubcommandAction>> actions;
  auto specs = registry();
  std::sort(specs.begin(), specs.end(),
            [](const SubcommandSpec& a, const SubcommandSpec& b) { return a.name < b.name; });
  for (auto& spec : specs) {
    CLI::App* cmd = app.add_subcommand(spec.name, spec.description);
    actions.emplace_back(cmd, spec.define(*cmd));
  }
  return run(app, argc, argv, [&]() -> int {
    for (auto& [cmd, action] : actions) {
      if (cmd->parsed()) return action();
    }
    return kExitBadInput;
  });
}

}  // namespace upm::cli
