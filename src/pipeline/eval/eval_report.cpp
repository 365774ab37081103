// Rendering of report.json: Markdown tables and an SVG bar chart.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "upm/pipeline/eval/evaluator.h"

namespace upm {

namespace {

using nlohmann::json;

std::string percent(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", 100.0 * v);
  return buffer;
}

// "61.2 [55.0, 67.1]" (percent).
std::string with_interval(const json& e) {
  return percent(e.at("mean").get<double>()) + " [" + percent(e.at("low").get<double>()) + ", " +
         percent(e.at("high").get<double>()) + "]";
}

// An interval that may be undefined (AUC of a group with one class: null in
// report.json), or absent from a report written before AUC was reported.
std::string optional_interval(const json& r, const char* key) {
  if (!r.contains(key) || !r.at(key).at("mean").is_number()) return "n/a";
  const json& e = r.at(key);
  auto two_places = [](double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", v);
    return std::string(buffer);
  };
  if (!e.at("low").is_number() || !e.at("high").is_number()) return two_places(e.at("mean").get<double>());
  return two_places(e.at("mean").get<double>()) + " [" + two_places(e.at("low").get<double>()) + ", " +
         two_places(e.at("high").get<double>()) + "]";
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string report_markdown(const json& report) {
  std::ostringstream md;
  const std::string level = percent(report.at("ci_level").get<double>());
  md << "# Evaluation report\n\n"
     << "Benchmark `" << report.at("benchmark").get<std::string>() << "`, " << report.at("tasks").get<int64_t>()
     << " tasks; accuracy and mean P(correct) in percent with " << level << "% bootstrap intervals ("
     << report.at("bootstrap_resamples").get<int>() << " resamples); AUC: P(second option) against \"the second "
     << "option is right\" over two-option tasks.\n\n"
     << "| predictor | condition | n | accuracy | P(correct) | AUC | missing inputs |\n"
     << "|---|---|---:|---|---|---|---:|\n";
  for (const auto& r : report.at("results")) {
    md << "| " << r.at("predictor").get<std::string>() << " | " << r.at("condition").get<std::string>() << " | "
       << r.at("n").get<int64_t>() << " | " << with_interval(r.at("accuracy")) << " | "
       << with_interval(r.at("p_correct")) << " | " << optional_interval(r, "auc") << " | "
       << r.at("missing_inputs").get<int64_t>() << " |\n";
  }
  if (!report.at("differences").empty()) {
    md << "\n## Paired differences (each condition against the first, then the listed comparisons)\n\n"
       << "| predictor | condition | baseline | accuracy diff | P(correct) diff |\n|---|---|---|---|---|\n";
    for (const auto& d : report.at("differences")) {
      md << "| " << d.at("predictor").get<std::string>() << " | " << d.at("condition").get<std::string>() << " | "
         << d.at("baseline").get<std::string>() << " | " << with_interval(d.at("accuracy")) << " | "
         << with_interval(d.at("p_correct")) << " |\n";
    }
  }
  for (const auto& field : report.at("group_by")) {
    const std::string name = field.get<std::string>();
    md << "\n## By " << name << "\n\n| predictor | condition | " << name
       << " | n | accuracy | P(correct) | AUC |\n|---|---|---|---:|---|---|---|\n";
    for (const auto& r : report.at("results")) {
      for (const auto& [group, e] : r.at("by").at(name).items()) {
        md << "| " << r.at("predictor").get<std::string>() << " | " << r.at("condition").get<std::string>() << " | "
           << group << " | " << e.at("accuracy").at("n").get<int64_t>() << " | " << with_interval(e.at("accuracy"))
           << " | " << with_interval(e.at("p_correct")) << " | " << optional_interval(e, "auc") << " |\n";
      }
    }
  }
  return md.str();
}

std::string report_chart_svg(const json& report) {
  const auto& results = report.at("results");
  const int bar = 36, gap = 18, left = 60, top = 30, height = 240;
  const int width = left + int(results.size()) * (bar + gap) + gap;
  const int total_height = top + height + 150;
  auto y_of = [&](double v) { return top + height - v * height; };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << total_height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<text x=\"" << left << "\" y=\"18\" font-size=\"13\">Accuracy with "
      << percent(report.at("ci_level").get<double>()) << "% CI</text>\n";
  for (int tick = 0; tick <= 4; ++tick) {
    const double v = tick / 4.0;
    svg << "<line x1=\"" << left - 4 << "\" x2=\"" << width << "\" y1=\"" << y_of(v) << "\" y2=\"" << y_of(v)
        << "\" stroke=\"#ddd\"/><text x=\"" << left - 8 << "\" y=\"" << y_of(v) + 4 << "\" text-anchor=\"end\">"
        << percent(v) << "</text>\n";
  }
  const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"};
  int x = left + gap;
  for (size_t i = 0; i < results.size(); ++i, x += bar + gap) {
    const auto& acc = results[i].at("accuracy");
    const double mean = acc.at("mean").get<double>();
    const double low = acc.at("low").get<double>(), high = acc.at("high").get<double>();
    const double shown = std::isfinite(mean) ? mean : 0.0;
    svg << "<rect x=\"" << x << "\" y=\"" << y_of(shown) << "\" width=\"" << bar << "\" height=\"" << shown * height
        << "\" fill=\"" << colors[i % 6] << "\"/>\n";
    if (std::isfinite(low) && std::isfinite(high)) {
      const int mid = x + bar / 2;
      svg << "<line x1=\"" << mid << "\" x2=\"" << mid << "\" y1=\"" << y_of(low) << "\" y2=\"" << y_of(high)
          << "\" stroke=\"#000\"/>\n";
    }
    const std::string label =
        results[i].at("predictor").get<std::string>() + " / " + results[i].at("condition").get<std::string>();
    svg << "<text transform=\"translate(" << x + bar / 2 << "," << top + height + 12 << ") rotate(45)\">"
        << escape_xml(label) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace upm
