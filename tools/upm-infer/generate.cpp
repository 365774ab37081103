// upm-infer generate: continue a prompt given as token ids (--ids), text
// (--prompt) or a chat (--messages FILE.json, rendered by the model's chat
// template), greedily (the default) or sampled (infer/generate_job.h).
#include <cstdio>
#include <memory>

#include "model_options.h"
#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/infer/generate_job.h"
#include "upm/infer/generation_flags.h"

namespace upm::infer_tool {
namespace {

cli::RegisterSubcommand generate_command{
    "generate", "continue a prompt (token ids, text or chat messages), greedy or sampled", [](CLI::App& cmd) {
      auto job = std::make_shared<GenerateJob>();
      auto json = std::make_shared<bool>(false);
      job->generation.sampling.temperature = 0.0;  // greedy unless asked
      job->generation.max_new_tokens = 32;
      add_model_options(cmd, job->model, job->runtime);
      cmd.add_option("--ids", job->ids, "prompt token ids, comma-separated (e.g. 1,2,3)");
      cmd.add_option("--prompt", job->prompt, "prompt text (the tokenizer's special tokens, e.g. bos, are added)");
      cmd.add_option("--messages", job->messages,
                     "a JSON file holding a chat: [{\"role\": \"user\", \"content\": \"...\"}, ...]");
      cmd.add_option("--chat-template", job->chat_template,
                     "template name overriding the model's (qwen3, plain, llama3, ...)");
      add_generation_flags(cmd, job->generation, job->num_samples);
      cmd.add_option("--stop-ids", job->generation.stop_token_ids,
                     "token ids that end the generation (kept in the output)")
          ->delimiter(',');
      cmd.add_flag("--json", *json, "one JSON line per sample: {ids, logprobs, text, finish_reason, sample}");
      return [job, json] {
        const GenerationPrint print = *json              ? GenerationPrint::json
                                      : job->ids.empty() ? GenerationPrint::text
                                                         : GenerationPrint::ids;
        for (const std::string& line : format_generations(run_generate_job(*job), print)) {
          std::printf("%s\n", line.c_str());
        }
        return kExitOk;
      };
    }};

}  // namespace
}  // namespace upm::infer_tool
