// upm-infer chat --model DIR [--system TEXT] [MESSAGE ...]: talk to an
// instruct model through its chat template (infer/chat_session.h). Each
// MESSAGE is a user turn answered in order; without one, lines are read from
// standard input ("/reset" starts over). Greedy unless --temperature is set.
#include <iostream>
#include <memory>

#include <unistd.h>

#include "model_options.h"
#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/infer/chat_session.h"
#include "upm/infer/generation_flags.h"

namespace upm::infer_tool {
namespace {

cli::RegisterSubcommand chat_command{
    "chat", "talk to an instruct model through its chat template (turns as arguments or lines on stdin)",
    [](CLI::App& cmd) {
      auto job = std::make_shared<ChatJob>();
      auto num_samples = std::make_shared<int64_t>(1);
      job->generation.sampling.temperature = 0.0;
      job->generation.max_new_tokens = 256;
      add_model_options(cmd, job->model, job->runtime);
      cmd.add_option("--system", job->system, "the system turn (default: the chat template's own, if any)");
      cmd.add_option("--chat-template", job->chat_template,
                     "template name overriding the model's (qwen3, chatml, llama3, ...)");
      add_generation_flags(cmd, job->generation, *num_samples);
      cmd.add_option("messages", job->turns, "user turns, answered in order (none: read lines from stdin)");
      return [job, num_samples] {
        if (*num_samples != 1) throw InputError(Location{"", 0, "--num-samples"}, "a chat answers with one sample");
        run_chat(*job, std::cin, std::cout, isatty(STDIN_FILENO) ? &std::cerr : nullptr);
        return kExitOk;
      };
    }};

}  // namespace
}  // namespace upm::infer_tool
