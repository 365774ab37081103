// The predictor against an independent computation: every option's score is
// recomputed from the prompt text with teacher-forced token_logprobs over the
// whole sequence (no KV cache, no shared context), then softmax and argmax.
#include <algorithm>
#include <numeric>
#include <set>

#include "pipeline_test_util.h"
#include "upm/data/prompt_builder.h"
#include "upm/infer/token_logprobs.h"
#include "upm/infer/scorer.h"
#include "upm/infer/predictor.h"
#include "upm/text/tokenizer.h"

namespace {

using upm::test::tiny_model;

std::vector<upm::data::BenchmarkTask> sample_tasks() {
  std::vector<upm::data::BenchmarkTask> tasks;
  const std::vector<std::vector<std::string>> options = {
      {"Scream (1996) | Horror", "Casino (1995) | Crime, Drama"},
      {"short answer", "a much longer and more detailed answer with examples", "no answer"},
      {"Alien", "Heat", "Up", "Jaws"},
      {"yes", "no"}};
  for (size_t i = 0; i < options.size(); ++i) {
    upm::data::BenchmarkTask t;
    t.user_id = "u" + std::to_string(i);
    t.task_id = "u" + std::to_string(i) + "-t" + std::to_string(i);
    t.context = "Which one will the user pick?";
    t.options = options[i];
    t.label = int(i % options[i].size());
    tasks.push_back(t);
  }
  return tasks;
}

std::vector<int64_t> prompt_ids(const std::string& text) {
  const auto& tok = *tiny_model().tokenizer;
  std::vector<int64_t> ids;
  if (auto bos = tok.special_tokens().bos) ids.push_back(*bos);
  for (auto id : tok.encode(text, false)) ids.push_back(id);
  return ids;
}

// Log-prob of `continuation` after `context`, teacher-forced over the whole sequence.
double independent_logprob(const std::vector<int64_t>& context, const std::string& continuation, bool mean) {
  std::vector<int64_t> cont;
  for (auto id : tiny_model().tokenizer->encode(continuation, false)) cont.push_back(id);
  std::vector<int64_t> all = context;
  all.insert(all.end(), cont.begin(), cont.end());
  auto lp = upm::token_logprobs(*tiny_model().model, {all})[0];
  double sum = std::accumulate(lp.end() - long(cont.size()), lp.end(), 0.0);
  return mean ? sum / double(cont.size()) : sum;
}

upm::data::PromptConfig blind_prompts() {
  upm::data::PromptConfig c;
  c.predict_template = "predict_blind.txt";
  c.predict_history_template = "predict_history_blind.txt";
  c.predict_none_template = "predict_none_blind.txt";
  return c;
}

void expect_matches_independent(const std::string& mode, bool normalize,
                                const upm::data::PromptConfig& prompts = upm::data::PromptConfig{}) {
  upm::PredictorConfig config;
  config.mode = mode;
  config.length_normalize = normalize;
  config.seed = 11;
  config.max_batch_rows = 5;  // forces several forward chunks
  upm::Predictor predictor(tiny_model(), config, prompts);
  upm::data::PromptBuilder builder(prompts, [](std::string_view t) { return tiny_model().tokenizer->count_tokens(t); });
  std::vector<upm::PredictRequest> requests;
  for (const auto& task : sample_tasks()) {
    upm::PredictRequest r;
    r.task = task;
    r.profile = "Likes crime films; dislikes horror. Prefers short answers.";
    requests.push_back(r);
  }
  const auto predictions = predictor.predict(requests);
  ASSERT_EQ(predictions.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& task = requests[i].task;
    const auto& p = predictions[i];
    const auto order = upm::shown_option_order(task.task_id, task.options.size(), config.seed);
    EXPECT_EQ(p.shown_order, order);
    const auto context = prompt_ids(builder.predict(upm::shown_task(task, order), requests[i].profile).text);
    EXPECT_EQ(p.prompt_tokens, int64_t(context.size()));
    std::vector<double> expected(task.options.size());
    for (size_t k = 0; k < order.size(); ++k) {
      const std::string shown = mode == "label" ? upm::data::option_label(k) : task.options[order[k]];
      expected[order[k]] = independent_logprob(context, " " + shown, normalize);
    }
    for (size_t o = 0; o < expected.size(); ++o)
      EXPECT_NEAR(p.scores[o], expected[o], 2e-4) << "task " << i << " option " << o;
    const int argmax = int(std::max_element(expected.begin(), expected.end()) - expected.begin());
    EXPECT_EQ(p.choice, argmax) << "task " << i;
    EXPECT_EQ(p.correct, argmax == task.label);
    EXPECT_NEAR(std::accumulate(p.probabilities.begin(), p.probabilities.end(), 0.0), 1.0, 1e-9);
    const auto probs = upm::softmax(expected);
    EXPECT_NEAR(p.p_correct, probs[task.label], 1e-4);
    EXPECT_DOUBLE_EQ(p.p_correct, p.probabilities[task.label]);
  }
}

TEST(Predictor, LabelModeChoiceIsArgmaxOfIndependentLabelLogprobs) { expect_matches_independent("label", false); }

TEST(Predictor, ContinuationModeMatchesIndependentOptionLogprobs) { expect_matches_independent("continuation", false); }

TEST(Predictor, LengthNormalizedContinuationUsesMeanPerToken) { expect_matches_independent("continuation", true); }

TEST(Predictor, BlindContinuationScoresOptionsItNeverSaw) {
  expect_matches_independent("continuation", false, blind_prompts());
}

// Calibrated scores are the plain scores of the input's prompt minus those
// of the task's no-input prompt, option by option; with no input the judge
// knows nothing: uniform P, the first shown option chosen.
TEST(Predictor, CalibratedScoresSubtractTheNoInputPromptsScores) {
  upm::PredictorConfig plain_config;
  plain_config.mode = "continuation";
  plain_config.seed = 3;
  upm::PredictorConfig calibrated_config = plain_config;
  calibrated_config.calibrate = true;
  upm::Predictor plain(tiny_model(), plain_config, blind_prompts());
  upm::Predictor calibrated(tiny_model(), calibrated_config, blind_prompts());
  std::vector<upm::PredictRequest> with_profile, without;
  for (const auto& task : sample_tasks()) {
    upm::PredictRequest r;
    r.task = task;
    r.profile = "Likes crime films; dislikes horror.";
    with_profile.push_back(r);
    r.input = upm::PredictInput::none;
    without.push_back(r);
  }
  const auto a = plain.predict(with_profile);
  const auto b = plain.predict(without);
  // Twice: the second call reads the kept no-input scores.
  for (int pass = 0; pass < 2; ++pass) {
    const auto c = calibrated.predict(with_profile);
    for (size_t i = 0; i < c.size(); ++i) {
      std::vector<double> expected(a[i].scores.size());
      for (size_t o = 0; o < expected.size(); ++o) {
        expected[o] = a[i].scores[o] - b[i].scores[o];
        EXPECT_NEAR(c[i].scores[o], expected[o], 2e-4) << "task " << i << " option " << o;
      }
      EXPECT_EQ(c[i].choice, int(std::max_element(expected.begin(), expected.end()) - expected.begin()));
      EXPECT_NEAR(c[i].p_correct, upm::softmax(expected)[with_profile[i].task.label], 1e-4);
    }
  }
  const auto none = calibrated.predict(without);
  for (size_t i = 0; i < none.size(); ++i) {
    for (double p : none[i].probabilities) EXPECT_DOUBLE_EQ(p, 1.0 / double(none[i].probabilities.size()));
    EXPECT_EQ(none[i].choice, none[i].shown_order.front());
  }
}

TEST(Predictor, LabelModeRejectsTemplatesThatDoNotListOptions) {
  upm::PredictorConfig config;
  config.mode = "label";
  UPM_EXPECT_THROW_WITH(upm::Predictor(tiny_model(), config, blind_prompts()), upm::InputError,
                        "predictor mode \"label\" needs {{options}}");
}

TEST(Predictor, ShownOrderIsASeededPermutationPerTask) {
  std::set<std::vector<int>> seen;
  for (int t = 0; t < 20; ++t) {
    auto order = upm::shown_option_order("task-" + std::to_string(t), 4, 3);
    EXPECT_EQ(order, upm::shown_option_order("task-" + std::to_string(t), 4, 3));  // deterministic
    std::vector<int> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int>{0, 1, 2, 3}));
    seen.insert(order);
  }
  EXPECT_GT(seen.size(), 5u);  // orders vary across tasks
  EXPECT_EQ(upm::shown_option_order("x", 3, 3, false), (std::vector<int>{0, 1, 2}));
}

TEST(Predictor, ShownTaskMovesTheLabelWithItsOption) {
  upm::data::BenchmarkTask task;
  task.task_id = "t";
  task.options = {"a", "b", "c"};
  task.label = 2;
  auto shown = upm::shown_task(task, {2, 0, 1});
  EXPECT_EQ(shown.options, (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(shown.label, 0);
  EXPECT_EQ(shown.options[shown.label], "c");
}

// Shuffled scoring mapped back equals unshuffled scoring of the same shown task.
TEST(Predictor, RandomisedLabelOrderMapsBackToOriginalOptions) {
  upm::PredictorConfig shuffled;
  shuffled.seed = 5;
  upm::PredictorConfig fixed = shuffled;
  fixed.shuffle_options = false;
  upm::Predictor a(tiny_model(), shuffled, upm::data::PromptConfig{});
  upm::Predictor b(tiny_model(), fixed, upm::data::PromptConfig{});
  int moved = 0;
  for (const auto& task : sample_tasks()) {
    upm::PredictRequest original;
    original.task = task;
    original.input = upm::PredictInput::none;
    const auto pa = a.predict({original})[0];
    upm::PredictRequest permuted = original;
    permuted.task = upm::shown_task(task, pa.shown_order);
    const auto pb = b.predict({permuted})[0];
    for (size_t k = 0; k < pa.shown_order.size(); ++k) {
      EXPECT_NEAR(pa.scores[pa.shown_order[k]], pb.scores[k], 1e-5);
      moved += pa.shown_order[k] != int(k);
    }
    EXPECT_NEAR(pa.p_correct, pb.p_correct, 1e-6);
    EXPECT_EQ(pa.choice, pa.shown_order[pb.choice]);  // the same option, by its original index
  }
  EXPECT_GT(moved, 0);  // the seed did shuffle something
}

TEST(Predictor, SoftmaxSumsToOneAndKeepsOrder) {
  auto p = upm::softmax({-1000.0, -1001.0, -999.0});
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
  EXPECT_GT(p[2], p[0]);
  EXPECT_GT(p[0], p[1]);
}

TEST(ContinuationScorer, SharedContextEqualsFullSequenceScoring) {
  auto& model = *tiny_model().model;
  std::vector<upm::ScoringRequest> groups = {
      {{1, 5, 9, 13, 200}, {{7}, {8, 9, 10}, {300, 301}}},
      {{4, 4}, {{11, 12, 13, 14}, {15}}},
      {{600, 601, 602, 603, 604, 605, 606}, {{1, 2}, {3, 4}, {5, 6}, {7, 8}}},
  };
  upm::ScoringConfig options;
  options.max_batch_sequences = 4;  // groups 0+1 cannot share a pass with 2
  const auto scores = upm::score_options(model, groups, options);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t c = 0; c < groups[g].options.size(); ++c) {
      std::vector<int64_t> all = groups[g].context;
      const auto& cont = groups[g].options[c];
      all.insert(all.end(), cont.begin(), cont.end());
      auto full = upm::token_logprobs(model, {all})[0];
      ASSERT_EQ(scores[g][c].token_logprobs.size(), cont.size());
      for (size_t i = 0; i < cont.size(); ++i) {
        EXPECT_NEAR(scores[g][c].token_logprobs[i], full[groups[g].context.size() - 1 + i], 1e-4)
            << g << "/" << c << "/" << i;
      }
    }
  }
}

TEST(ContinuationScorer, RejectsOutOfVocabularyIds) {
  std::vector<upm::ScoringRequest> groups = {{{1, 2}, {{100000}}}};
  EXPECT_THROW(upm::score_options(*tiny_model().model, groups), upm::InputError);
}

}  // namespace
