// The remote judge end to end: the real upm-serve (a child process on a
// loopback port) serves a small judge model folder; RemoteJudge's rewards
// (P(correct) from the first token's top_logprobs over HTTP) must equal the
// same quantity computed in this process from the same folder: the chat
// prompt upm-serve renders (thinking off), one forward pass, log-softmax at
// the last position, the best token reading as each label, softmax.
//
// The judge is a tiny model SFT-trained for a few steps (about 3 s) to answer
// the predict prompt with a bare letter, so that the labels are among the top 20 tokens
// (otherwise both sides would read the -30 floor and agree vacuously; the
// test asserts they are).

#include <algorithm>
#include <cctype>
#include <regex>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rl_test_util.h"
#include "serve_process.h"
#include "upm/model/causal_lm.h"
#include "upm/infer/language_model.h"
#include "upm/openai/openai_client.h"
#include "upm/text/tokenizer.h"
#include "upm/train/remote_judge.h"

namespace upm::test {
namespace {

std::string without_spaces(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

// The in-process judge: P(option) from the model's next-token distribution
// after the chat-rendered predict prompt. Asserts (through `ok`) that every
// label's best token ranks in the top 20, the part of the distribution the
// endpoint reports.
Prediction local_first_token_prediction(const LanguageModel& lm, const data::PromptBuilder& builder,
                                        const PredictRequest& request, uint64_t order_seed, bool& ok) {
  const std::vector<int> order = shown_option_order(request.task.task_id, request.task.options.size(), order_seed);
  const std::vector<int64_t> ids =
      encode_prompt(lm, builder.predict(shown_task(request.task, order), request.profile).text);
  torch::NoGradGuard no_grad;
  ForwardInput in;
  in.input_ids = torch::tensor(ids, torch::kLong).unsqueeze(0);
  in.logits_for = LogitsFor::last;
  torch::Tensor logp = torch::log_softmax(lm.model->forward(in).logits.reshape({-1}).to(torch::kDouble), 0);
  torch::Tensor twentieth = std::get<0>(logp.topk(20)).min();
  Prediction p;
  p.shown_order = order;
  p.scores.assign(order.size(), -1e30);
  for (size_t k = 0; k < order.size(); ++k) {
    const std::string label = data::option_label(k);  // "Item A"
    for (int64_t id = 0; id < lm.tokenizer->vocab_size(); ++id) {
      const std::string text = without_spaces(lm.tokenizer->decode({id}));
      if (text == without_spaces(label) || text == label.substr(label.size() - 1)) {
        p.scores[size_t(order[k])] = std::max(p.scores[size_t(order[k])], logp[id].item<double>());
      }
    }
    ok = ok && p.scores[size_t(order[k])] >= twentieth.item<double>();
  }
  p.probabilities = softmax(p.scores);
  p.choice = int(std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin());
  p.p_correct = p.probabilities[size_t(request.task.label)];
  return p;
}

TEST(RemoteJudgeServe, RewardsThroughUpmServeEqualTheLocalModelsFirstTokenProbabilities) {
  TempDir dir;
  const std::string model = sft_model(dir.path(), "judge", letter_judge_rows(), 40, 3, 3e-3, "qwen3");
  ServeProcess server({"--model", model, "--port", "0", "--served-model-name", "judge", "--max-tokens", "4"},
                      dir.file("serve.log"));
  const std::string url = server.first_line();
  ASSERT_TRUE(std::regex_match(url, std::regex(R"(http://127\.0\.0\.1:[0-9]+/v1)")))
      << url << "\n"
      << read_text(dir.file("serve.log"));
  openai::OpenAIClientConfig client_config;
  client_config.base_url = url;
  client_config.model = "judge";
  client_config.max_retries = 0;
  openai::OpenAIClient client(client_config);

  LanguageModel lm = load_language_model(model, ModelRuntime{}, PromptFormat{"chat", "", /*enable_thinking=*/false});
  const auto count = [tok = lm.tokenizer](std::string_view text) { return tok->count_tokens(text); };
  PredictorConfig predictor;  // label mode, options shuffled
  RemoteJudge remote([&](const std::vector<openai::ChatRequest>& r) { return client.chat_many(r); }, predictor,
                     rl_prompt_config(), count, -30.0, url);

  // Every topic as a profile, plus the empty one, on a small world's tasks.
  TopicWorld world = make_topic_world(4, 21, "r");
  std::vector<PredictRequest> requests;
  for (const auto& task : world.tasks) {
    for (const std::string& profile : {task.options[0], task.options[1], std::string()}) {
      PredictRequest r;
      r.task = task;
      r.profile = profile;
      requests.push_back(r);
    }
  }
  const uint64_t order_seed = 5;
  const std::vector<Prediction> got = remote.judge(requests, order_seed);
  ASSERT_EQ(got.size(), requests.size());
  data::PromptBuilder builder(rl_prompt_config(), count);
  bool labels_in_top20 = true;
  double lowest = 1, highest = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const Prediction want = local_first_token_prediction(lm, builder, requests[i], order_seed, labels_in_top20);
    SCOPED_TRACE("request " + std::to_string(i) + " profile '" + requests[i].profile + "'");
    EXPECT_EQ(got[i].shown_order, want.shown_order);
    EXPECT_NEAR(got[i].p_correct, want.p_correct, 1e-4);
    for (size_t k = 0; k < want.scores.size(); ++k) EXPECT_NEAR(got[i].scores[k], want.scores[k], 1e-3);
    lowest = std::min(lowest, want.p_correct);
    highest = std::max(highest, want.p_correct);
  }
  EXPECT_TRUE(labels_in_top20)
      << "the judge model does not rank the labels in its top 20: the test would compare floors";
  // Not a constant judge: rewards differ across prompts (measured spread 0.021;
  // 40 SFT steps teach the letter format, not yet the topic).
  EXPECT_GT(highest - lowest, 0.01);
  EXPECT_EQ(server.stop(SIGTERM), 0) << read_text(dir.file("serve.log"));
}

}  // namespace
}  // namespace upm::test
