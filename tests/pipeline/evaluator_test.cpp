// upm-eval's numbers against a hand computation: every task's P(correct) and
// choice recomputed from the prompt text with full-sequence token_logprobs,
// then accuracy / mean P / bootstrap intervals / per-group means by hand.
#include <numeric>

#include "pipeline_test_util.h"
#include "upm/data/event_format.h"
#include "upm/data/prompt_builder.h"
#include "upm/infer/token_logprobs.h"
#include "upm/pipeline/eval/eval_stats.h"
#include "upm/pipeline/eval/evaluator.h"
#include "upm/text/tokenizer.h"

namespace {

using nlohmann::json;
using upm::test::tiny_model;

std::vector<std::string> benchmark_lines() {
  std::vector<std::string> lines;
  const char* sources[] = {"movies", "chat", "movies", "news", "chat", "movies", "news", "chat"};
  for (int i = 0; i < 8; ++i) {
    json task = {{"user_id", "u" + std::to_string(i % 3)},
                 {"task_id", "t" + std::to_string(i)},
                 {"context", "Which item will the user choose?"},
                 {"options", {"Option one " + std::to_string(i), "Option two " + std::to_string(i * 7)}},
                 {"label", i % 2},
                 {"source", sources[i]},
                 {"kind", i < 4 ? "rating" : "pairwise"}};
    lines.push_back(task.dump());
  }
  return lines;
}

// P(correct) and correctness of `task` for a prompt text built by `prompt(shown task)`.
std::pair<double, double> by_hand(const upm::data::BenchmarkTask& task,
                                  const std::function<std::string(const upm::data::BenchmarkTask&)>& prompt,
                                  uint64_t seed) {
  const auto& tok = *tiny_model().tokenizer;
  const auto order = upm::shown_option_order(task.task_id, task.options.size(), seed);
  std::vector<int64_t> context;
  if (auto bos = tok.special_tokens().bos) context.push_back(*bos);
  for (auto id : tok.encode(prompt(upm::shown_task(task, order)), false)) context.push_back(id);
  std::vector<double> scores(task.options.size());
  for (size_t k = 0; k < order.size(); ++k) {
    std::vector<int64_t> all = context;
    const auto label = tok.encode(" " + upm::data::option_label(k), false);
    all.insert(all.end(), label.begin(), label.end());
    auto lp = upm::token_logprobs(*tiny_model().model, {all})[0];
    scores[order[k]] = std::accumulate(lp.end() - long(label.size()), lp.end(), 0.0);
  }
  const double top = *std::max_element(scores.begin(), scores.end());
  double total = 0;
  for (double s : scores) total += std::exp(s - top);
  const double p = std::exp(scores[task.label] - top) / total;
  const bool correct = std::max_element(scores.begin(), scores.end()) - scores.begin() == task.label;
  return {p, correct ? 1.0 : 0.0};
}

void expect_estimate(const json& e, const upm::Estimate& expected, double tol) {
  EXPECT_NEAR(e.at("mean").get<double>(), expected.mean, tol);
  EXPECT_NEAR(e.at("low").get<double>(), expected.low, tol);
  EXPECT_NEAR(e.at("high").get<double>(), expected.high, tol);
  EXPECT_EQ(e.at("n").get<int64_t>(), expected.n);
}

TEST(Evaluator, ReportMatchesAHandComputation) {
  upm::test::TempDir dir;
  upm::test::write_lines(dir.file("bench.jsonl"), benchmark_lines());
  // u2 has no profile: it reads the empty profile and is counted as missing.
  upm::test::write_lines(dir.file("profiles.jsonl"),
                         {R"({"user_id": "u0", "profile": "old", "version": 1})",
                          R"({"user_id": "u0", "profile": "Likes option one.", "version": 2})",
                          R"({"user_id": "u1", "profile": "Prefers the second option.", "version": 1})"});
  upm::test::write_lines(dir.file("history.jsonl"), {upm::test::user_line("u0", 30), upm::test::user_line("u1", 3)});
  const json config_json = {
      {"benchmark", dir.file("bench.jsonl")},
      {"run_dir", dir.file("run")},
      {"predictors", {{{"name", "tiny"}, {"model", upm::test::tiny_model_dir()}, {"seed", 3}}}},
      {"conditions",
       {{{"kind", "none"}},
        {{"name", "history"}, {"kind", "history"}, {"history", dir.file("history.jsonl")}, {"history_tokens", 60}},
        {{"name", "batch"}, {"kind", "profiles"}, {"profiles", dir.file("profiles.jsonl")}}}},
      {"comparisons", {{{"condition", "batch"}, {"baseline", "history"}}}},
      {"bootstrap_resamples", 500},
      {"bootstrap_seed", 9}};
  const auto config = upm::config_from_json<upm::EvalConfig>(config_json, "test");
  const json report = upm::run_evaluation(config);

  upm::data::PromptBuilder builder(upm::data::PromptConfig{},
                                   [](std::string_view t) { return tiny_model().tokenizer->count_tokens(t); });
  const auto tasks = upm::data::read_benchmark(dir.file("bench.jsonl"));
  const std::map<std::string, std::string> profiles = {{"u0", "Likes option one."},
                                                       {"u1", "Prefers the second option."}};
  const auto logs = upm::data::read_user_logs(dir.file("history.jsonl"));
  auto history_of = [&](const std::string& user) {
    for (const auto& log : logs) {
      if (log.user_id != user) continue;
      // The newest events whose lines fit 60 tokens.
      std::vector<upm::data::Event> kept;
      int64_t used = 0;
      for (auto it = log.events.rbegin(); it != log.events.rend(); ++it) {
        int64_t cost = int64_t(tiny_model().tokenizer->count_tokens(upm::data::format_event(*it, 1000) + "\n"));
        if (used + cost > 60) break;
        used += cost;
        kept.insert(kept.begin(), *it);
      }
      if (user == "u0") EXPECT_LT(kept.size(), log.events.size());  // the budget cut something
      return kept;
    }
    return std::vector<upm::data::Event>{};
  };
  using Prompt = std::function<std::string(const upm::data::BenchmarkTask&)>;
  const std::vector<std::function<Prompt(const upm::data::BenchmarkTask&)>> conditions = {
      [&](const upm::data::BenchmarkTask&) -> Prompt {
        return [&](const upm::data::BenchmarkTask& s) { return builder.predict_none(s).text; };
      },
      [&](const upm::data::BenchmarkTask& t) -> Prompt {
        auto history = history_of(t.user_id);
        return
            [&builder, history](const upm::data::BenchmarkTask& s) { return builder.predict_history(s, history).text; };
      },
      [&](const upm::data::BenchmarkTask& t) -> Prompt {
        auto it = profiles.find(t.user_id);
        std::string profile = it == profiles.end() ? "" : it->second;
        return [&builder, profile](const upm::data::BenchmarkTask& s) { return builder.predict(s, profile).text; };
      }};

  const auto& results = report.at("results");
  ASSERT_EQ(results.size(), 3u);
  std::vector<std::vector<double>> correct_of, p_of;
  for (size_t c = 0; c < conditions.size(); ++c) {
    std::vector<double> p, correct;
    std::vector<std::string> sources;
    for (const auto& task : tasks) {
      auto [pc, ok] = by_hand(task, conditions[c](task), 3);
      p.push_back(pc);
      correct.push_back(ok);
      sources.push_back(task.extra.at("source").get<std::string>());
    }
    const json& r = results[c];
    EXPECT_EQ(r.at("n"), 8);
    expect_estimate(r.at("accuracy"), upm::bootstrap_mean(correct, 0.95, 500, 9), 1e-12);
    expect_estimate(r.at("p_correct"), upm::bootstrap_mean(p, 0.95, 500, 9), 1e-4);
    const auto by_source = upm::bootstrap_by_group(correct, sources, 0.95, 500, 9);
    for (const auto& [source, e] : by_source)
      expect_estimate(r.at("by").at("source").at(source).at("accuracy"), e, 1e-12);
    EXPECT_EQ(r.at("by").at("kind").at("rating").at("accuracy").at("n"), 4);
    // AUC: P(second option) against "the second option is right".
    std::vector<double> second;
    std::vector<int> is_second;
    for (size_t i = 0; i < tasks.size(); ++i) {
      second.push_back(tasks[i].label == 1 ? p[i] : 1.0 - p[i]);
      is_second.push_back(tasks[i].label);
    }
    expect_estimate(r.at("auc"), upm::bootstrap_auc(second, is_second, 0.95, 500, 9), 1e-4);
    EXPECT_EQ(r.at("by").at("kind").at("rating").at("auc").at("n"), 4);
    correct_of.push_back(correct);
    p_of.push_back(p);
  }
  EXPECT_EQ(results[2].at("missing_inputs"), 2);  // the u2 tasks t2, t5
  EXPECT_EQ(results[1].at("missing_inputs"), 2);
  // Each condition against the first, then the listed comparison, all paired over the same tasks.
  const auto& differences = report.at("differences");
  ASSERT_EQ(differences.size(), 3u);
  const std::vector<std::pair<size_t, size_t>> pairs = {{1, 0}, {2, 0}, {2, 1}};
  for (size_t d = 0; d < pairs.size(); ++d) {
    auto [c, b] = pairs[d];
    EXPECT_EQ(differences[d].at("condition"), results[c].at("condition"));
    EXPECT_EQ(differences[d].at("baseline"), results[b].at("condition"));
    expect_estimate(differences[d].at("accuracy"),
                    upm::bootstrap_mean_difference(correct_of[c], correct_of[b], 0.95, 500, 9), 1e-12);
    expect_estimate(differences[d].at("p_correct"), upm::bootstrap_mean_difference(p_of[c], p_of[b], 0.95, 500, 9),
                    1e-4);
  }

  const std::string md = upm::test::read_text(dir.file("run/report.md"));
  EXPECT_NE(md.find("| tiny | batch | 8 |"), std::string::npos) << md;
  EXPECT_NE(md.find("## By source"), std::string::npos);
  EXPECT_NE(upm::test::read_text(dir.file("run/chart.svg")).find("<rect"), std::string::npos);
  EXPECT_EQ(upm::test::read_json_lines(dir.file("run/predictions.jsonl")).size(), 24u);
  EXPECT_EQ(upm::read_json_file(dir.file("run/report.json")), report);
}

TEST(Evaluator, ProfilesConditionWithoutAFileIsAnInputError) {
  upm::test::TempDir dir;
  upm::test::write_lines(dir.file("bench.jsonl"), benchmark_lines());
  const json config_json = {{"benchmark", dir.file("bench.jsonl")},
                            {"run_dir", dir.file("run")},
                            {"predictors", {{{"model", upm::test::tiny_model_dir()}}}},
                            {"conditions", {{{"kind", "profiles"}}}}};
  UPM_EXPECT_THROW_WITH(upm::run_evaluation(upm::config_from_json<upm::EvalConfig>(config_json, "test")),
                        upm::InputError, "conditions[0].profiles");
}

TEST(Evaluator, ComparisonOfAnUnknownConditionIsAnInputError) {
  upm::test::TempDir dir;
  upm::test::write_lines(dir.file("bench.jsonl"), benchmark_lines());
  const json config_json = {{"benchmark", dir.file("bench.jsonl")},
                            {"run_dir", dir.file("run")},
                            {"predictors", {{{"model", upm::test::tiny_model_dir()}}}},
                            {"conditions", {{{"kind", "none"}}}},
                            {"comparisons", {{{"condition", "none"}, {"baseline", "RL"}}}}};
  UPM_EXPECT_THROW_WITH(upm::run_evaluation(upm::config_from_json<upm::EvalConfig>(config_json, "test")),
                        upm::InputError, "comparisons[0].baseline");
}

TEST(Evaluator, UnknownConfigKeyIsRejected) {
  const json config_json = {
      {"benchmark", "b"}, {"run_dir", "r"}, {"predictors", {{{"model", "m"}, {"mdoe", "label"}}}}};
  EXPECT_THROW(upm::config_from_json<upm::EvalConfig>(config_json, "test"), upm::InputError);
}

}  // namespace
