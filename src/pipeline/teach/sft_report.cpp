#include "upm/pipeline/teach/sft_report.h"

#include <cstdio>
#include <filesystem>
#include <map>

#include "upm/core/jsonl.h"

namespace upm {

namespace {

using nlohmann::json;

// A micro-averaged accuracy: correct answers over tasks.
struct Tally {
  double correct = 0, tasks = 0;
  void add(const json& score, size_t n) {
    correct += score.at("correct").get<double>();
    tasks += double(n);
  }
  json value() const { return tasks > 0 ? json(correct / tasks) : json(nullptr); }
};

struct RoundTally {
  int64_t users = 0, candidates = 0, ok = 0, kept = 0, targets = 0;
  int64_t merges = 0, merges_accepted = 0, merges_failed = 0;
  Tally none, candidate, best_single, merged, best_where_merged, target;
  std::map<std::string, int64_t> target_from;
};

// The candidate a user would get without validation: the most accurate.
const json* most_accurate(const json& candidates) {
  const json* best = nullptr;
  for (const auto& c : candidates) {
    if (!c.value("ok", false)) continue;
    if (!best || c.at("correct").get<int>() > best->at("correct").get<int>()) best = &c;
  }
  return best;
}

void add_round(const json& record, const json& round, RoundTally& t) {
  // A round that validates on its own targets names them and has its own baseline.
  const size_t n = round.contains("tasks") ? round.at("tasks").size() : record.at("tasks").size();
  ++t.users;
  if (round.contains("baseline"))
    t.none.add(round.at("baseline"), n);
  else if (record.contains("baseline"))
    t.none.add(record.at("baseline"), n);
  const json& candidates = round.value("candidates", json::array());
  for (const auto& c : candidates) {
    ++t.candidates;
    if (!c.value("ok", false)) continue;
    ++t.ok;
    t.candidate.add(c, n);
    if (c.value("kept", false)) ++t.kept;
  }
  const json* best = most_accurate(candidates);
  if (best) t.best_single.add(*best, n);
  if (round.contains("merge")) {
    ++t.merges;
    const json& m = round.at("merge");
    if (m.value("accepted", false))
      ++t.merges_accepted;
    else
      ++t.merges_failed;
    if (m.contains("correct")) {
      t.merged.add(m, n);
      if (best) t.best_where_merged.add(*best, n);
    }
  }
  if (round.value("status", "") == "ok") {
    ++t.targets;
    ++t.target_from[round.value("target_from", "")];
    t.target.correct += round.at("target_accuracy").get<double>() * double(n);
    t.target.tasks += double(n);
  }
}

json round_json(const RoundTally& t) {
  return {{"users", t.users},
          {"candidates", t.candidates},
          {"ok_outputs", t.ok},
          {"kept", t.kept},
          {"pass_rate", t.candidates ? json(double(t.kept) / double(t.candidates)) : json(nullptr)},
          {"users_with_target", t.targets},
          {"target_from", t.target_from},
          {"merge", {{"attempted", t.merges}, {"accepted", t.merges_accepted}, {"fell_back", t.merges_failed}}},
          {"accuracy",
           {{"no_profile", t.none.value()},
            {"mean_candidate", t.candidate.value()},
            {"best_single", t.best_single.value()},
            {"merged", t.merged.value()},
            {"best_single_where_merged", t.best_where_merged.value()},
            {"target", t.target.value()}}}};
}

std::string cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_number_float()) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", v.get<double>());
    return buffer;
  }
  return v.dump();
}

}  // namespace

json build_sft_report(const std::string& candidates_path, const std::string& errors_path,
                      const std::vector<std::string>& drop_rules) {
  int64_t with_rows = 0, rejected = 0, errors = 0, rows = 0;
  std::map<std::string, int64_t> rows_by_kind, dropped;
  for (const auto& rule : drop_rules) dropped[rule] = 0;
  std::map<int, RoundTally> rounds;
  for (const auto& record : read_jsonl_file(candidates_path)) {
    const bool ok = record.value("status", "") == "ok";
    ok ? ++with_rows : ++rejected;
    if (record.contains("dropped")) ++dropped[record.at("dropped").get<std::string>()];
    for (const auto& round : record.at("rounds")) {
      add_round(record, round, rounds[round.at("round").get<int>()]);
      // A dropped user's round-1 target gives no row.
      if (ok && round.value("status", "") == "ok") ++rows, ++rows_by_kind[round.value("kind", "")];
    }
  }
  if (std::filesystem::exists(errors_path)) errors = int64_t(read_jsonl_file(errors_path).size());
  json by_round = json::object();
  for (const auto& [n, t] : rounds) by_round[std::to_string(n)] = round_json(t);
  json users = {
      {"input", with_rows + rejected + errors}, {"with_rows", with_rows}, {"rejected", rejected}, {"errors", errors}};
  if (!dropped.empty()) users["dropped"] = dropped;
  return {{"users", users}, {"rows", rows}, {"rows_by_kind", rows_by_kind}, {"rounds", by_round}};
}

std::string build_sft_report_markdown(const json& report) {
  const json& u = report.at("users");
  std::string md =
      "# build-sft report\n\n| users | with rows | rejected | errors | SFT rows |\n|---|---|---|---|---|\n";
  md += "| " + cell(u["input"]) + " | " + cell(u["with_rows"]) + " | " + cell(u["rejected"]) + " | " +
        cell(u["errors"]) + " | " + cell(report["rows"]) + " |\n\n";
  if (u.contains("dropped")) {
    md += "Rejected users dropped by a rule:\n\n| rule | users |\n|---|---|\n";
    for (const auto& [rule, n] : u["dropped"].items()) md += "| " + rule + " | " + cell(n) + " |\n";
    md += "\n";
  }
  md +=
      "| round | users | candidates | kept | pass rate | targets | merges (accepted / fell back) |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& [n, r] : report.at("rounds").items()) {
    md += "| " + n + " | " + cell(r["users"]) + " | " + cell(r["candidates"]) + " | " + cell(r["kept"]) + " | " +
          cell(r["pass_rate"]) + " | " + cell(r["users_with_target"]) + " | " + cell(r["merge"]["accepted"]) + " / " +
          cell(r["merge"]["fell_back"]) + " |\n";
  }
  md +=
      "\nAccuracy on the validation tasks (correct answers / tasks):\n\n"
      "| round | no profile | mean candidate | best single | merged | best single (same users) | target |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& [n, r] : report.at("rounds").items()) {
    const json& a = r["accuracy"];
    md += "| " + n + " | " + cell(a["no_profile"]) + " | " + cell(a["mean_candidate"]) + " | " +
          cell(a["best_single"]) + " | " + cell(a["merged"]) + " | " + cell(a["best_single_where_merged"]) + " | " +
          cell(a["target"]) + " |\n";
  }
  return md;
}

}  // namespace upm
