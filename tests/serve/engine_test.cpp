// ChatEngine in other precisions: --dtype bfloat16 serves with log-probs
// that stay a distribution and agree with the greedy choice.

#include "upm/serve/chat_engine.h"

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

}  // namespace
}  // namespace upm::test
