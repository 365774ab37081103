#pragma once
// Batch profiling (`upm-profile`): one profile per user of a user-log file.
//   - users are read in windows of `window_users`; inside a window their
//     prompts are sorted by token count and generated
//     `generation.max_batch_sequences` at a time (length-aware batching:
//     little padding, no straggler batch per window);
//   - every input user ends with a profile line in OUTPUT or an error line in
//     OUTPUT.errors.jsonl (bad record, duplicate user id, no events, prompt too
//     long, unfinished <think> block), see job_output.h;
//   - rerunning the same command resumes: users already done are skipped;
//   - RANK / WORLD_SIZE shard users across ranks (job_output.h).
// Output records: {"user_id", "profile", "version": 1, "events_seen": N,
// "event_ids": [...], "model", "created_at"} (+ "reasoning" when kept).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "upm/core/config.h"
#include "upm/data/prompt_config.h"
#include "upm/infer/generation_config.h"
#include "upm/infer/language_model.h"
#include "upm/model/model_runtime.h"
#include "upm/pipeline/job_output.h"

namespace upm {

// A profile job's decoding unless its config says otherwise: greedy, so that
// a rerun writes the same profiles (sampled, prompt i of a batch draws from
// sequence_seed(seed, i)); a profile longer than 1024 tokens is cut; 8 prompts
// per batch.
inline GenerationConfig profile_generation_defaults() {
  GenerationConfig g;
  g.sampling.temperature = 0.0;
  g.max_new_tokens = 1024;
  g.max_batch_sequences = 8;
  return g;
}

// The knobs `upm-profile` and `upm-update` share.
struct ProfileJobSettings {
  ModelRuntime runtime;
  PromptFormat prompt_format;  // raw prompts, or user turns of the chat template
  data::PromptConfig prompts;
  GenerationConfig generation = profile_generation_defaults();
  int64_t window_users = 256;  // users read (and length-sorted) at a time
  int64_t max_users = 0;       // stop after this many new users in this run (0 = all); for chunked work
  bool keep_reasoning = true;  // write the <think> text as "reasoning"
  std::string model_name;      // "model" field; "" = the model folder's name
};

inline void describe(ConfigIO& io, ProfileJobSettings& c) {
  io.section("runtime", c.runtime);
  io.section("prompt_format", c.prompt_format);
  io.section("prompts", c.prompts);
  io.section("generation", c.generation);
  // An empty profile is never a success (profile_writer.h): fail at load.
  if (io.reading() && c.generation.max_new_tokens < 1) io.fail("generation.max_new_tokens", "must be > 0");
  io.field("window_users", c.window_users).greater_than(0);
  io.field("max_users", c.max_users).at_least(0);
  io.field("keep_reasoning", c.keep_reasoning);
  io.field("model_name", c.model_name);
}

// `upm-profile`'s config. The paths may be left out of a config file (one
// file of knobs serves many inputs) but the job needs them: --model, --input
// and --output set them.
struct ProfileJobConfig : ProfileJobSettings {
  std::string model;   // model folder (config.json, safetensors, tokenizer)
  std::string input;   // user logs (JSONL, one user per line)
  std::string output;  // profiles (JSONL), appended; errors go to OUTPUT.errors.jsonl
};

inline void describe(ConfigIO& io, ProfileJobConfig& c) {
  io.field("model", c.model);
  io.field("input", c.input);
  io.field("output", c.output);
  describe(io, static_cast<ProfileJobSettings&>(c));
}

// An InputError naming the first key of `keys` ({key, value}) whose value is
// empty: a job's paths, required once the config file and flags are applied.
void require_job_paths(const std::vector<std::pair<std::string, std::string>>& keys);

// Profiles every pending user of `input` into `output` with `lm`.
JobSummary run_profile_job(LanguageModel& lm, const ProfileJobSettings& settings, const std::string& input,
                           const std::string& output);

// `upm-profile`: loads config.model and profiles config.input into config.output.
JobSummary run_profile_job(const ProfileJobConfig& config);

}  // namespace upm
