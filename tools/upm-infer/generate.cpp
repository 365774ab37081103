// upm-infer generate: greedy continuation of a prompt given as token ids.
#include <cstdio>
#include <memory>
#include <sstream>

#include "model_options.h"
#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/infer/greedy.h"

namespace upm::infer_tool {
namespace {

struct GenerateCommand {
  ModelOptions model;
  std::string ids;
  int64_t max_new_tokens = 32;
  std::vector<int64_t> stop_ids;
  bool json = false;
};

// "1,2,3" -> {1, 2, 3}; anything else is an InputError naming --ids.
std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int64_t id = 0;
    try {
      id = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) {
      throw InputError(Location{"--ids", 0, ""}, "expected comma-separated token ids, got \"" + item + "\"");
    }
    out.push_back(id);
  }
  return out;
}

int run_generate(const GenerateCommand& c) {
  std::vector<int64_t> prompt = parse_ids(c.ids);
  auto model = load_model(c.model);
  GreedyOptions options;
  options.max_new_tokens = c.max_new_tokens;
  options.stop_ids = c.stop_ids;
  std::vector<int64_t> ids = greedy_generate(*model, {prompt}, options).at(0);
  if (c.json) {
    std::printf("%s\n", nlohmann::json{{"ids", ids}}.dump().c_str());
  } else {
    std::string line;
    for (int64_t id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

cli::RegisterSubcommand generate_command{
    "generate", "greedy continuation of a prompt of token ids", [](CLI::App& cmd) {
      auto c = std::make_shared<GenerateCommand>();
      add_model_options(cmd, c->model);
      cmd.add_option("--ids", c->ids, "prompt token ids, comma-separated (e.g. 1,2,3)")->required();
      cmd.add_option("--max-new-tokens", c->max_new_tokens, "tokens to generate at most")
          ->check(CLI::NonNegativeNumber)->capture_default_str();
      cmd.add_option("--stop-ids", c->stop_ids, "token ids that end the generation (kept in the output)")->delimiter(',');
      cmd.add_flag("--json", c->json, "print {\"ids\": [...]} instead of space-separated ids");
      return [c] { return run_generate(*c); };
    }};

}  // namespace
}  // namespace upm::infer_tool
