#include "upm/infer/generation_flags.h"
#include "upm/infer/sampler.h"

namespace upm {

void add_generation_flags(CLI::App& cmd, GenerationConfig& config, int64_t& num_samples) {
  SamplingConfig& s = config.sampling;
  cmd.add_option("--temperature", s.temperature, "0 = greedy")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd.add_option("--top-k", s.top_k, "keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  cmd.add_option("--top-p", s.top_p, "nucleus mass (1 = off)")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--min-p", s.min_p, "keep p >= min_p * max p (0 = off)")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--repetition-penalty", s.repetition_penalty, "1 = off")->check(CLI::PositiveNumber);
  cmd.add_option("--seed", s.seed, "sequence i draws from sequence_seed(seed, i)");
  cmd.add_option("--max-new-tokens", config.max_new_tokens)->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd.add_option("--stop", config.stop_strings, "stop string (repeatable); cut from the text");
  cmd.add_option("--num-samples", num_samples, "samples per prompt, decoded as a shared-prefix group")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

nlohmann::json generation_to_json(const Generation& g) {
  nlohmann::json out = {{"ids", g.tokens},
                        {"logprobs", g.logprobs},
                        {"text", g.text},
                        {"finish_reason", finish_reason_name(g.finish_reason)}};
  if (!g.stop_string.empty()) out["stop_string"] = g.stop_string;
  return out;
}

}  // namespace upm
