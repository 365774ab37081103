#include "upm/infer/generator.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/infer/padded_batch.h"
#include "upm/infer/prefix_sharing.h"
#include "upm/infer/sampler.h"
#include "upm/infer/stop_criteria.h"
#include "upm/model/causal_lm.h"
#include "upm/model/kv_cache.h"

namespace upm {

std::string finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::stop_token: return "stop_token";
    case FinishReason::stop_string: return "stop_string";
    case FinishReason::length: return "length";
    case FinishReason::deadline: return "deadline";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool passed(const std::optional<Clock::time_point>& deadline) { return deadline && Clock::now() >= *deadline; }

// One sequence being generated.
struct Sequence {
  const std::vector<int64_t>* prompt = nullptr;
  int64_t budget = 0;  // new tokens it may still reach
  Generation out;
  std::optional<StopStringMatch> match;
  bool done = false;
};

// log-softmax of the raw logits [B, V] at the chosen tokens, in fp32.
std::vector<float> chosen_logprobs(const torch::Tensor& logits, const std::vector<TokenId>& tokens) {
  torch::Tensor lf = logits.to(torch::kFloat);
  std::vector<int64_t> ids(tokens.begin(), tokens.end());
  torch::Tensor index = torch::tensor(ids, torch::kLong).to(lf.device()).unsqueeze(1);
  torch::Tensor lp = (lf.gather(1, index).squeeze(1) - lf.logsumexp(1)).to(torch::kCPU).contiguous();
  return std::vector<float>(lp.data_ptr<float>(), lp.data_ptr<float>() + lp.numel());
}

// Appends `token` to `seq` and decides whether it ended.
void record_token(Sequence& seq, int64_t token, float logprob, const StopCriteria& stops) {
  seq.out.tokens.push_back(token);
  seq.out.logprobs.push_back(logprob);
  if (stops.is_stop_token(token)) {
    seq.out.finish_reason = FinishReason::stop_token;
    seq.done = true;
  } else if ((seq.match = stops.find_stop_string(seq.out.tokens))) {
    seq.out.finish_reason = FinishReason::stop_string;
    seq.out.stop_string = seq.match->stop;
    seq.done = true;
  } else if (int64_t(seq.out.tokens.size()) >= seq.budget) {
    seq.out.finish_reason = FinishReason::length;
    seq.done = true;
  }
}

// One prefill + decode over some prompts, each continued `group` times.
class Wave {
 public:
  Wave(CausalLM& model, const GenerationConfig& config, const StopCriteria& stops, TokenSampler& sampler,
       GenerationStats& stats, std::optional<Clock::time_point> deadline, const PrefillPassLimits& limits)
      : model_(model),
        config_(config),
        stops_(stops),
        sampler_(sampler),
        stats_(stats),
        deadline_(deadline),
        limits_(limits) {}

  // Continues prompts[first .. first+count) into seqs[first*group ...].
  void run(const std::vector<std::vector<int64_t>>& prompts, size_t first, size_t count, int64_t group,
           std::vector<Sequence>& seqs) {
    std::vector<std::vector<int64_t>> part(prompts.begin() + first, prompts.begin() + first + count);
    int64_t longest_budget = 0;
    for (size_t s = first * group; s < (first + count) * group; ++s)
      longest_budget = std::max(longest_budget, seqs[s].budget);
    if (longest_budget == 0) return;
    if (passed(deadline_)) {
      for (size_t s = first * group; s < (first + count) * group; ++s) {
        if (seqs[s].budget > 0) end_at_deadline(seqs[s]);
      }
      return;
    }

    auto start = Clock::now();
    std::vector<int64_t> lengths;
    for (const auto& p : part) lengths.push_back(int64_t(p.size()));
    const std::vector<std::vector<size_t>> passes = prefill_passes(lengths, limits_);
    // Prompt p is prefilled into slot p (fan_out_prefixes expects that); a
    // pass's padding goes only to the longest of its own rows.
    const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
    const int64_t rows = int64_t(count) * group;
    KVCache cache(model_.config(), rows, longest + longest_budget, model_.dtype(), model_.device());
    std::vector<torch::Tensor> row_logits(count);
    for (const auto& pass : passes) {
      std::vector<std::vector<int64_t>> pass_prompts;
      ForwardInput in;
      for (size_t r : pass) {
        pass_prompts.push_back(part[r]);
        in.slots.push_back(int64_t(r));
      }
      PaddedBatch batch = pad_sequences(pass_prompts, PadSide::left);
      in.input_ids = batch.ids;
      in.attention_mask = batch.mask;
      in.cache = &cache;
      in.logits_for = LogitsFor::last;
      torch::Tensor logits = model_.forward(in).logits.select(1, 0);  // [pass rows, V]
      for (size_t i = 0; i < pass.size(); ++i) row_logits[pass[i]] = logits[int64_t(i)];
      ++stats_.prefill_passes;
    }
    torch::Tensor logits = torch::stack(row_logits);  // [count, V]
    for (const auto& p : part) stats_.prefill_tokens += int64_t(p.size());
    if (group > 1) {
      fan_out_prefixes(cache, std::vector<int64_t>(count, group));
      logits = logits.repeat_interleave(group, 0);
    }
    stats_.prefill_seconds += seconds_since(start);

    start = Clock::now();
    std::vector<int64_t> row_seq(rows);
    for (int64_t r = 0; r < rows; ++r) row_seq[r] = int64_t(first) * group + r;
    decode(cache, logits, row_seq, seqs);
    stats_.decode_seconds += seconds_since(start);
  }

 private:
  // Row r lives in cache slot r and continues seqs[row_seq[r]]; `logits`
  // [rows, V] predict each row's next token.
  void decode(KVCache& cache, torch::Tensor logits, std::vector<int64_t> row_seq, std::vector<Sequence>& seqs) {
    while (true) {
      std::vector<TokenId> tokens = sampler_.sample(logits, row_seq, seen(row_seq, seqs));
      std::vector<float> logprobs = chosen_logprobs(logits, tokens);
      std::vector<int64_t> keep;
      for (size_t r = 0; r < row_seq.size(); ++r) {
        Sequence& seq = seqs[row_seq[r]];
        record_token(seq, tokens[r], logprobs[r], stops_);
        ++stats_.generated_tokens;
        if (!seq.done) keep.push_back(int64_t(r));
      }
      if (keep.empty()) return;
      if (passed(deadline_)) {
        for (int64_t r : keep) end_at_deadline(seqs[row_seq[r]]);
        return;
      }
      if (keep.size() < row_seq.size()) {
        std::vector<int64_t> order = compact_rows(cache, keep, int64_t(row_seq.size()));
        std::vector<int64_t> moved(order.size());
        for (size_t i = 0; i < order.size(); ++i) moved[i] = row_seq[order[i]];
        row_seq = std::move(moved);
      }
      std::vector<int64_t> next;
      for (int64_t s : row_seq) next.push_back(seqs[s].out.tokens.back());
      const int64_t rows = int64_t(row_seq.size());
      ForwardInput in;
      in.input_ids = torch::tensor(next, torch::kLong).view({rows, 1});
      in.cache = &cache;
      in.logits_for = LogitsFor::last;
      stats_.decode_rows.push_back(rows);
      logits = model_.forward(in).logits.select(1, 0);
    }
  }

  static void end_at_deadline(Sequence& seq) {
    seq.out.finish_reason = FinishReason::deadline;
    seq.done = true;
  }

  // Prompt + generated tokens per row, for the repetition penalty only.
  std::vector<std::vector<TokenId>> seen(const std::vector<int64_t>& row_seq, const std::vector<Sequence>& seqs) const {
    std::vector<std::vector<TokenId>> out;
    if (config_.sampling.repetition_penalty == 1.0) return out;
    for (int64_t s : row_seq) {
      std::vector<TokenId> ids(seqs[s].prompt->begin(), seqs[s].prompt->end());
      ids.insert(ids.end(), seqs[s].out.tokens.begin(), seqs[s].out.tokens.end());
      out.push_back(std::move(ids));
    }
    return out;
  }

  CausalLM& model_;
  const GenerationConfig& config_;
  const StopCriteria& stops_;
  TokenSampler& sampler_;
  GenerationStats& stats_;
  std::optional<Clock::time_point> deadline_;
  const PrefillPassLimits& limits_;
};

// New tokens `prompt` may get: max_new_tokens, less what max_length leaves.
int64_t token_budget(const std::vector<int64_t>& prompt, const GenerationConfig& config, size_t index) {
  const int64_t n = int64_t(prompt.size());
  if (config.max_length <= 0) return config.max_new_tokens;
  if (n >= config.max_length) {
    throw InputError(
        Location{"", 0, "prompt " + std::to_string(index)},
        "prompt of " + std::to_string(n) + " tokens leaves no room in max_length " + std::to_string(config.max_length));
  }
  return std::min(config.max_new_tokens, config.max_length - n);
}

}  // namespace

Generator::Generator(CausalLM& model, const Tokenizer* tokenizer) : model_(model), tokenizer_(tokenizer) {}

std::vector<Generation> Generator::generate(const std::vector<std::vector<int64_t>>& prompts,
                                            const GenerationConfig& config, const std::vector<uint64_t>& seeds) {
  return generate_groups(prompts, 1, config, seeds);
}

std::vector<Generation> Generator::generate_groups(const std::vector<std::vector<int64_t>>& prompts, int64_t group_size,
                                                   const GenerationConfig& config, const std::vector<uint64_t>& seeds) {
  c10::InferenceMode inference;
  stats_ = GenerationStats{};
  if (group_size < 1) throw InputError(Location{"", 0, "group_size"}, "must be >= 1");
  const size_t total = prompts.size() * size_t(group_size);
  if (!seeds.empty() && seeds.size() != total) {
    throw InputError(Location{"", 0, "seeds"},
                     std::to_string(seeds.size()) + " seeds given for " + std::to_string(total) + " sequences");
  }
  StopCriteria stops(config, tokenizer_, model_.config());
  std::vector<Sequence> seqs(total);
  for (size_t p = 0; p < prompts.size(); ++p) {
    check_token_ids(prompts[p], model_.config().vocab_size, "prompt " + std::to_string(p));
    const int64_t budget = token_budget(prompts[p], config, p);
    for (int64_t g = 0; g < group_size; ++g) {
      seqs[p * group_size + g].prompt = &prompts[p];
      seqs[p * group_size + g].budget = budget;
    }
  }
  TokenSampler sampler =
      seeds.empty() ? TokenSampler(config.sampling, int64_t(total)) : TokenSampler(config.sampling, seeds);
  stats_.sequences = int64_t(total);

  // A wave holds as many whole groups as max_batch_sequences allows (at least one).
  const size_t per_wave = size_t(std::max<int64_t>(1, config.max_batch_sequences / group_size));
  Wave wave(model_, config, stops, sampler, stats_, deadline_, prefill_limits_);
  for (size_t first = 0; first < prompts.size(); first += per_wave) {
    wave.run(prompts, first, std::min(per_wave, prompts.size() - first), group_size, seqs);
  }

  std::vector<Generation> out;
  out.reserve(total);
  for (auto& seq : seqs) {
    seq.out.text = stops.final_text(seq.out.tokens, seq.out.finish_reason == FinishReason::stop_token, seq.match);
    out.push_back(std::move(seq.out));
  }
  return out;
}

}  // namespace upm
