// upm-infer score: per-token log-probs of given token sequences (infer/score_job.h).
#include <memory>

#include "model_options.h"
#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/infer/score_job.h"

namespace upm::infer_tool {
namespace {

cli::RegisterSubcommand score_command{
    "score", "per-token log-probs of token sequences (JSONL in, JSONL out)", [](CLI::App& cmd) {
      auto job = std::make_shared<ScoreJob>();
      add_model_options(cmd, job->model, job->runtime);
      cmd.add_option("--input", job->input, "JSONL, one {\"ids\": [...]} or {\"text\": \"...\"} per line")->required();
      cmd.add_option("--output", job->output, "JSONL of {\"ids\", \"logprobs\"}")->required();
      cmd.add_option("--batch", job->batch, "sequences per forward pass")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      return [job] {
        run_score_job(*job);
        return kExitOk;
      };
    }};

}  // namespace
}  // namespace upm::infer_tool
