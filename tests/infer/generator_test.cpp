// Generator: batched KV-cache decoding against one-by-one runs, full
// recomputation and teacher-forced scores; seeds, groups, stops, budgets,
// deadlines.

#include "upm/infer/generator.h"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "infer_test_util.h"
#include "test_util.h"
#include "upm/infer/sampler.h"
#include "upm/infer/stop_criteria.h"
#include "upm/infer/text_generation.h"
#include "upm/infer/token_logprobs.h"

namespace upm::test {
namespace {

GenerationConfig greedy_config(int64_t max_new_tokens) {
  GenerationConfig config;
  config.sampling.temperature = 0.0;
  config.max_new_tokens = max_new_tokens;
  config.stop_at_eos = false;
  return config;
}

GenerationConfig sampled_config(int64_t max_new_tokens, uint64_t seed) {
  GenerationConfig config;
  config.sampling.temperature = 1.0;
  config.sampling.top_p = 0.95;
  config.sampling.seed = seed;
  config.max_new_tokens = max_new_tokens;
  config.stop_at_eos = false;
  return config;
}

// Greedy continuation by recomputing the whole sequence at every step (no cache).
std::vector<int64_t> greedy_without_cache(CausalLM& model, std::vector<int64_t> ids, int64_t steps) {
  c10::InferenceMode guard;
  std::vector<int64_t> out;
  for (int64_t s = 0; s < steps; ++s) {
    ForwardInput in;
    in.input_ids = torch::tensor(ids).view({1, -1});
    int64_t next = model.forward(in).logits[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

class GeneratorFamilies : public ::testing::TestWithParam<std::string> {};

TEST_P(GeneratorFamilies, GreedyBatchedEqualsOneByOneAndFullRecompute) {
  auto model = load_reference_model(GetParam());
  Generator gen(*model);
  auto prompts = mixed_prompts(GetParam());
  auto together = gen.generate(prompts, greedy_config(12));
  ASSERT_EQ(together.size(), prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    auto alone = gen.generate({prompts[p]}, greedy_config(12));
    EXPECT_EQ(together[p].tokens, alone[0].tokens) << "prompt " << p;
    EXPECT_EQ(together[p].tokens, greedy_without_cache(*model, prompts[p], 12)) << "prompt " << p;
    EXPECT_EQ(together[p].finish_reason, FinishReason::length);
  }
}

// Prompts prefilled in separate passes (one per length here) decode to the
// same tokens as one padded pass.
TEST_P(GeneratorFamilies, SeparatePrefillPassesGiveTheSameTokensAsOnePaddedPass) {
  auto model = load_reference_model(GetParam());
  auto prompts = mixed_prompts(GetParam());
  Generator one_pass(*model);
  auto padded = one_pass.generate(prompts, greedy_config(12));
  EXPECT_EQ(one_pass.last_stats().prefill_passes, 1);
  Generator split(*model);
  split.set_prefill_limits(PrefillPassLimits{0.0, 0, 0});
  auto alone = split.generate(prompts, greedy_config(12));
  EXPECT_EQ(split.last_stats().prefill_passes, int64_t(prompts.size()));
  for (size_t p = 0; p < prompts.size(); ++p) {
    EXPECT_EQ(alone[p].tokens, padded[p].tokens) << "prompt " << p;
    ASSERT_EQ(alone[p].logprobs.size(), padded[p].logprobs.size());
    for (size_t t = 0; t < alone[p].logprobs.size(); ++t)
      EXPECT_NEAR(alone[p].logprobs[t], padded[p].logprobs[t], 1e-4) << "prompt " << p << " token " << t;
  }
}

// The reported log-probs are the model's own: teacher-forcing prompt +
// generated tokens gives the same values.
TEST_P(GeneratorFamilies, LogprobsEqualTeacherForcedScores) {
  auto model = load_reference_model(GetParam());
  Generator gen(*model);
  auto prompts = mixed_prompts(GetParam());
  auto outs = gen.generate(prompts, sampled_config(10, 11));
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::vector<int64_t> full = prompts[p];
    full.insert(full.end(), outs[p].tokens.begin(), outs[p].tokens.end());
    auto reference = token_logprobs(*model, {full})[0];
    ASSERT_EQ(outs[p].logprobs.size(), outs[p].tokens.size());
    for (size_t i = 0; i < outs[p].tokens.size(); ++i) {
      EXPECT_NEAR(outs[p].logprobs[i], reference[prompts[p].size() - 1 + i], 1e-4) << "prompt " << p << " token " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, GeneratorFamilies, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(Generator, SeededSamplingIsReproducibleAndSeedDependent) {
  auto model = load_reference_model("qwen3");
  Generator gen(*model);
  auto prompts = mixed_prompts("qwen3");
  auto a = gen.generate(prompts, sampled_config(16, 3));
  auto b = gen.generate(prompts, sampled_config(16, 3));
  auto c = gen.generate(prompts, sampled_config(16, 4));
  bool any_differs = false;
  for (size_t p = 0; p < prompts.size(); ++p) {
    EXPECT_EQ(a[p].tokens, b[p].tokens);
    any_differs |= a[p].tokens != c[p].tokens;
  }
  EXPECT_TRUE(any_differs) << "seed 3 and seed 4 drew the same 48 tokens";
}

TEST(Generator, BatchedSamplingEqualsSeparateRunsWithSameSeeds) {
  auto model = load_reference_model("llama");
  Generator gen(*model);
  auto prompts = mixed_prompts("llama");
  GenerationConfig config = sampled_config(12, 21);
  config.sampling.top_k = 20;
  config.sampling.repetition_penalty = 1.3;
  auto together = gen.generate(prompts, config);
  for (size_t p = 0; p < prompts.size(); ++p) {
    auto alone = gen.generate({prompts[p]}, config, {sequence_seed(21, p)});
    EXPECT_EQ(together[p].tokens, alone[0].tokens) << "prompt " << p;
  }
}

TEST(Generator, GroupEqualsSeparateRunsAndComputesThePromptOnce) {
  auto model = load_reference_model("qwen2");
  Generator gen(*model);
  auto prompt = mixed_prompts("qwen2")[0];
  GenerationConfig config = sampled_config(10, 8);
  const int64_t G = 4;
  auto group = gen.generate_groups({prompt}, G, config);
  EXPECT_EQ(gen.last_stats().prefill_tokens, int64_t(prompt.size()));
  EXPECT_EQ(gen.last_stats().decode_rows.front(), G);
  ASSERT_EQ(int64_t(group.size()), G);
  std::set<std::vector<int64_t>> distinct;
  for (int64_t g = 0; g < G; ++g) {
    auto alone = gen.generate({prompt}, config, {sequence_seed(8, g)});
    EXPECT_EQ(group[g].tokens, alone[0].tokens) << "sample " << g;
    for (size_t i = 0; i < alone[0].logprobs.size(); ++i) EXPECT_NEAR(group[g].logprobs[i], alone[0].logprobs[i], 1e-5);
    distinct.insert(group[g].tokens);
  }
  EXPECT_GT(distinct.size(), 1u) << "a group of 4 samples should not be identical";
}

TEST(Generator, GroupsOfSeveralPromptsEqualRepeatedPrompts) {
  auto model = load_reference_model("qwen3");
  Generator gen(*model);
  auto prompts = mixed_prompts("qwen3");
  GenerationConfig config = sampled_config(8, 5);
  config.max_batch_sequences = 4;  // one group of 3 per wave: three waves
  auto groups = gen.generate_groups(prompts, 3, config);
  std::vector<std::vector<int64_t>> repeated;
  for (const auto& p : prompts) repeated.insert(repeated.end(), 3, p);
  config.max_batch_sequences = 64;
  auto flat = gen.generate(repeated, config);
  ASSERT_EQ(groups.size(), flat.size());
  for (size_t i = 0; i < flat.size(); ++i) EXPECT_EQ(groups[i].tokens, flat[i].tokens) << "sequence " << i;
}

// A stop id ends a sequence at its first occurrence; ending sequences leave
// the batch and the others continue exactly as if nothing had happened.
TEST(Generator, FinishedSequencesLeaveTheBatch) {
  auto model = load_reference_model("llama");
  Generator gen(*model);
  auto prompts = mixed_prompts("llama");
  GenerationConfig config = sampled_config(14, 2);
  auto free_run = gen.generate(prompts, config);
  const int64_t stop = free_run[0].tokens[1];
  config.stop_token_ids = {stop};
  auto stopped = gen.generate(prompts, config);
  for (size_t p = 0; p < prompts.size(); ++p) {
    const auto& full = free_run[p].tokens;
    auto at = std::find(full.begin(), full.end(), stop);
    std::vector<int64_t> expected(full.begin(), at == full.end() ? full.end() : at + 1);
    EXPECT_EQ(stopped[p].tokens, expected) << "prompt " << p;
    EXPECT_EQ(stopped[p].finish_reason, at == full.end() ? FinishReason::length : FinishReason::stop_token);
  }
  // Decode pass k computes token k+1 of every sequence still running.
  std::vector<int64_t> expected_rows;
  for (size_t k = 0;; ++k) {
    int64_t live = 0;
    for (const auto& s : stopped) live += s.tokens.size() > k + 1;
    if (live == 0) break;
    expected_rows.push_back(live);
  }
  EXPECT_EQ(gen.last_stats().decode_rows, expected_rows);
  EXPECT_LT(expected_rows.back(), 3) << "prompt 0 should have left the batch";
  int64_t generated = 0;
  for (const auto& s : stopped) generated += int64_t(s.tokens.size());
  EXPECT_EQ(gen.last_stats().generated_tokens, generated);
}

TEST(Generator, MaxNewTokensAndMaxLengthBoundEachSequence) {
  auto model = load_reference_model("qwen3");
  Generator gen(*model);
  auto prompts = mixed_prompts("qwen3");  // 9, 3 and 7 tokens
  GenerationConfig config = greedy_config(5);
  for (const auto& out : gen.generate(prompts, config)) {
    EXPECT_EQ(out.tokens.size(), 5u);
    EXPECT_EQ(out.finish_reason, FinishReason::length);
  }
  config.max_length = 10;
  auto outs = gen.generate(prompts, config);
  EXPECT_EQ(outs[0].tokens.size(), 1u);
  EXPECT_EQ(outs[1].tokens.size(), 5u);
  EXPECT_EQ(outs[2].tokens.size(), 3u);
  config.max_new_tokens = 0;
  for (const auto& out : gen.generate(prompts, config)) EXPECT_TRUE(out.tokens.empty());
}

TEST(Generator, PromptsThatOverflowTheCacheOrHoldBadIdsAreErrors) {
  auto model = load_reference_model("qwen3");
  Generator gen(*model);
  GenerationConfig config = greedy_config(4);
  config.max_length = 5;
  UPM_EXPECT_THROW_WITH(gen.generate({{1, 2}, {1, 2, 3, 4, 5}}, config), InputError, "prompt 1");
  config.max_length = 0;
  UPM_EXPECT_THROW_WITH(gen.generate({{1, 2}, {}}, config), InputError, "empty token sequence");
  UPM_EXPECT_THROW_WITH(gen.generate({{1, 500}}, config), InputError, "outside the vocabulary");
  UPM_EXPECT_THROW_WITH(gen.generate({{1, 2}}, config, {1, 2}), InputError, "2 seeds given for 1 sequences");
}

TEST(Generator, StopIdsComeFromConfigTokenizerAndModel) {
  auto tokenizer = tiny_tokenizer();
  auto model = load_reference_model("qwen3");  // eos_token_id 2
  GenerationConfig config;
  config.stop_token_ids = {7};
  StopCriteria with_eos(config, tokenizer.get(), model->config());
  EXPECT_TRUE(with_eos.is_stop_token(7));
  EXPECT_TRUE(with_eos.is_stop_token(2));
  for (TokenId id : tokenizer->special_tokens().stop) EXPECT_TRUE(with_eos.is_stop_token(id));
  config.stop_at_eos = false;
  StopCriteria without(config, tokenizer.get(), model->config());
  EXPECT_EQ(without.stop_ids(), std::vector<int64_t>{7});
}

// Real decoded text: a random model sized for the tiny BPE tokenizer.
class TextGeneration : public ::testing::Test {
 protected:
  std::unique_ptr<Tokenizer> tokenizer = tiny_tokenizer();
  std::shared_ptr<CausalLM> model = random_text_model(tokenizer->vocab_size());
  Generator gen{*model, tokenizer.get()};
  std::vector<int64_t> prompt{5, 60, 61, 62};
};

// Asking to stop at a piece of a free run's text cuts the run there.
TEST_F(TextGeneration, StopStringEndsTheSequenceAndIsTrimmed) {
  GenerationConfig config = sampled_config(40, 9);
  auto free_run = gen.generate({prompt}, config)[0];
  const std::string text = free_run.text;
  EXPECT_EQ(text, tokenizer->decode(std::vector<TokenId>(free_run.tokens.begin(), free_run.tokens.end()), true));
  // A 3-byte ASCII piece from the middle of the text.
  std::string stop;
  for (size_t i = text.size() / 2; i + 3 <= text.size() && stop.empty(); ++i) {
    bool ascii = true;
    for (size_t k = i; k < i + 3; ++k) ascii &= text[k] > 32 && text[k] < 127;
    if (ascii) stop = text.substr(i, 3);
  }
  ASSERT_FALSE(stop.empty()) << "no ASCII piece in: " << text;
  config.stop_strings = {"never appears \x01", stop};
  auto out = gen.generate({prompt}, config)[0];
  EXPECT_EQ(out.finish_reason, FinishReason::stop_string);
  EXPECT_EQ(out.stop_string, stop);
  EXPECT_EQ(out.text, text.substr(0, text.find(stop)));
  ASSERT_LE(out.tokens.size(), free_run.tokens.size());
  EXPECT_TRUE(std::equal(out.tokens.begin(), out.tokens.end(), free_run.tokens.begin()));
  // It stopped on the first token that completed the stop string.
  std::vector<TokenId> before(out.tokens.begin(), out.tokens.end() - 1);
  EXPECT_EQ(tokenizer->decode(before, true).find(stop), std::string::npos);

  GenerationConfig bad = config;
  Generator no_text(*model);
  UPM_EXPECT_THROW_WITH(no_text.generate({prompt}, bad), InputError, "need a tokenizer");
  bad.stop_strings = {""};
  UPM_EXPECT_THROW_WITH(gen.generate({prompt}, bad), InputError, "stop_strings[0]");
}

TEST_F(TextGeneration, StopTokenIsKeptInTokensButNotInText) {
  GenerationConfig config = sampled_config(20, 1);
  auto free_run = gen.generate({prompt}, config)[0];
  config.stop_token_ids = {free_run.tokens[4]};
  auto out = gen.generate({prompt}, config)[0];
  ASSERT_EQ(out.finish_reason, FinishReason::stop_token);
  EXPECT_EQ(out.tokens.back(), free_run.tokens[4]);
  std::vector<TokenId> body(out.tokens.begin(), out.tokens.end() - 1);
  EXPECT_EQ(out.text, tokenizer->decode(body, true));
}

TEST_F(TextGeneration, TextInTextOut) {
  GenerationConfig config = sampled_config(12, 4);
  const std::string text = "hello world, the cat";
  auto outs = generate_text(gen, {text, "a"}, config);
  std::vector<TokenId> ids = tokenizer->encode(text);
  auto direct = gen.generate({std::vector<int64_t>(ids.begin(), ids.end()), {tokenizer->encode("a")[0]}}, config);
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].tokens, direct[0].tokens);
  EXPECT_EQ(outs[0].text, direct[0].text);
  EXPECT_FALSE(outs[0].text.empty());
  auto group = generate_text_group(gen, text, 3, config);
  EXPECT_EQ(group[0].tokens, direct[0].tokens);  // sample 0 of the group uses stream 0
  Generator no_text(*model);
  UPM_EXPECT_THROW_WITH(generate_text(no_text, {text}, config), InputError, "needs a tokenizer");
}

TEST_F(TextGeneration, ChatMessagesGoThroughTheTemplate) {
  GenerationConfig config = sampled_config(8, 6);
  ChatTemplate chatml = ChatTemplate::named("plain");
  std::vector<ChatMessage> chat{{"user", "hello world"}};
  const std::string rendered = chatml.render(chat, ChatOptions{true});
  EXPECT_NE(rendered.find("<|im_start|>assistant"), std::string::npos);
  auto outs = generate_chat(gen, chatml, {chat}, config);
  auto direct = generate_text(gen, {rendered}, config);
  EXPECT_EQ(outs[0].tokens, direct[0].tokens);
  EXPECT_EQ(outs[0].text, direct[0].text);
}

// A deadline in mid-decode: both sequences end at the same step with the
// tokens a run without a deadline starts with, long before their budget.
TEST_F(TextGeneration, ADeadlineEndsDecodingWithTheTokensSoFar) {
  using Clock = std::chrono::steady_clock;
  const std::vector<std::vector<int64_t>> prompts{prompt, {5, 60}};
  GenerationConfig config = sampled_config(20000, 3);  // far longer than the deadline without it
  const auto start = Clock::now();
  gen.set_deadline(start + std::chrono::milliseconds(200));
  auto cut = gen.generate(prompts, config);
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(took, 0.2 + 2.0) << "one decode step is the most a call may overrun";
  ASSERT_EQ(cut.size(), 2u);
  for (const auto& out : cut) {
    EXPECT_EQ(out.finish_reason, FinishReason::deadline);
    EXPECT_GT(out.tokens.size(), 0u);
    EXPECT_LT(out.tokens.size(), 20000u);
    EXPECT_EQ(out.tokens.size(), cut[0].tokens.size());
    EXPECT_EQ(out.text, tokenizer->decode(std::vector<TokenId>(out.tokens.begin(), out.tokens.end()), true));
  }
  EXPECT_EQ(finish_reason_name(FinishReason::deadline), "deadline");
  gen.set_deadline(std::nullopt);
  config.max_new_tokens = int64_t(cut[0].tokens.size());
  auto free_run = gen.generate(prompts, config);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(free_run[i].tokens, cut[i].tokens) << "sequence " << i;
    EXPECT_EQ(free_run[i].finish_reason, FinishReason::length);
  }
}

TEST_F(TextGeneration, APassedDeadlineGeneratesNothingAndAFarOneChangesNothing) {
  GenerationConfig config = sampled_config(12, 8);
  auto free_run = gen.generate_groups({prompt}, 3, config);
  gen.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  for (const auto& out : gen.generate_groups({prompt}, 3, config)) {
    EXPECT_TRUE(out.tokens.empty());
    EXPECT_EQ(out.text, "");
    EXPECT_EQ(out.finish_reason, FinishReason::deadline);
  }
  EXPECT_EQ(gen.last_stats().prefill_passes, 0);
  gen.set_deadline(std::chrono::steady_clock::now() + std::chrono::hours(1));
  auto far = gen.generate_groups({prompt}, 3, config);
  ASSERT_EQ(far.size(), free_run.size());
  for (size_t i = 0; i < far.size(); ++i) {
    EXPECT_EQ(far[i].tokens, free_run[i].tokens);
    EXPECT_EQ(far[i].logprobs, free_run[i].logprobs);
    EXPECT_EQ(far[i].finish_reason, FinishReason::length);
  }
}

TEST(GenerationConfig, ReadsEveryFieldAndRejectsUnknownKeys) {
  auto json = nlohmann::json::parse(R"({"sampling": {"temperature": 0.5, "top_k": 4, "seed": 9},
      "max_new_tokens": 7, "stop_strings": ["</p>", "\n\n"], "stop_token_ids": [3], "stop_at_eos": false})");
  auto config = config_from_json<GenerationConfig>(json, "gen.json", {"max_length=100"});
  EXPECT_EQ(config.sampling.temperature, 0.5);
  EXPECT_EQ(config.sampling.top_k, 4);
  EXPECT_EQ(config.sampling.seed, 9u);
  EXPECT_EQ(config.max_new_tokens, 7);
  EXPECT_EQ(config.max_length, 100);
  EXPECT_EQ(config.stop_strings, (std::vector<std::string>{"</p>", "\n\n"}));
  EXPECT_EQ(config.stop_token_ids, std::vector<int64_t>{3});
  EXPECT_FALSE(config.stop_at_eos);
  UPM_EXPECT_THROW_WITH(config_from_json<GenerationConfig>(nlohmann::json::parse(R"({"max_tokens": 3})"), "gen.json"),
                        InputError, "max_tokens");
  UPM_EXPECT_THROW_WITH(
      config_from_json<GenerationConfig>(nlohmann::json::parse(R"({"sampling": {"top_p": 0}})"), "gen.json"),
      InputError, "sampling.top_p");
}

}  // namespace
}  // namespace upm::test
