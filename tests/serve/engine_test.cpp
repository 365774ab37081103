// ChatEngine in other precisions: --dtype bfloat16 serves with log-probs
// that stay a distribution and agree with the greedy choice. A time budget
// cuts decoding and keeps what a run without it starts with.

#include "upm/serve/chat_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

#include "serve_test_util.h"

namespace upm::test {
namespace {

TEST(ChatEngine, Bfloat16AnswersWithConsistentLogprobs) {
  ModelRuntime runtime;
  runtime.dtype = "bfloat16";
  serve::ChatEngine engine(serve::load_chat_model(tiny_model_dir(), runtime, "tiny-bf16"));
  openai::ChatRequest request = user_request("Item A or Item B?", 4);
  request.logprobs = true;
  request.top_logprobs = 5;
  openai::ChatResponse answer = engine.complete(request);
  EXPECT_EQ(answer.model, "tiny-bf16");
  ASSERT_EQ(answer.choices.size(), 1u);
  const auto& logprobs = answer.choices[0].logprobs;
  ASSERT_EQ(int64_t(logprobs.size()), answer.completion_tokens);
  for (const auto& position : logprobs) {
    ASSERT_EQ(position.top_logprobs.size(), 5u);
    double mass = 0;
    for (const auto& alt : position.top_logprobs) mass += std::exp(alt.logprob);
    EXPECT_LE(mass, 1.0 + 1e-3);
    EXPECT_GT(mass, 0.0);
    // Greedy picks the most likely token (ties in bf16 aside: equal log-probs).
    EXPECT_NEAR(position.logprob, position.top_logprobs[0].logprob, 1e-6);
  }
}

// A request cut at its time budget: every choice still decoding at the
// deadline ends "length" at the same step, and the answer equals that of the
// same seeded request with max_tokens at that step and no budget.
TEST(ChatEngine, ATimeBudgetCutsDecodingAndKeepsTheTokensSoFar) {
  openai::ChatRequest request = user_request("Item A or Item B?", 4000);
  request.temperature = 2;  // seeded choices that run for hundreds of tokens before <|im_end|>
  request.seed = 3;
  request.n = 8;
  request.logprobs = true;
  const auto start = std::chrono::steady_clock::now();
  openai::ChatResponse cut = serve_engine().complete(request, 0.05);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(took, 0.05 + 2.0);
  ASSERT_EQ(cut.choices.size(), 8u);
  size_t longest = 0;
  for (const auto& choice : cut.choices) longest = std::max(longest, choice.logprobs.size());
  ASSERT_GT(longest, 0u);
  ASSERT_LT(longest, 4000u);
  // A choice that samples its stop token in the step the deadline passes ends
  // "stop" at the cut's length; every choice that was still decoding ends
  // "length" there, and every shorter one stopped on its own.
  int cut_choices = 0;
  for (const auto& choice : cut.choices) {
    if (choice.finish_reason == "length") {
      ++cut_choices;
      EXPECT_EQ(choice.logprobs.size(), longest);
    } else {
      EXPECT_EQ(choice.finish_reason, "stop");
    }
  }
  EXPECT_GT(cut_choices, 0);
  request.max_tokens = int64_t(longest);
  openai::ChatResponse uncut = serve_engine().complete(request);
  EXPECT_EQ(openai::to_json(uncut), openai::to_json(cut));
}

}  // namespace
}  // namespace upm::test
