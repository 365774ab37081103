#include "upm/data/event.h"

#include <cctype>

#include "field_reader.h"

namespace upm::data {

using detail::FieldReader;
using detail::number_json;

const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::rating: return "rating";
    case EventKind::pairwise: return "pairwise";
    case EventKind::click: return "click";
    case EventKind::text: return "text";
  }
  return "?";
}

std::optional<EventKind> kind_from_name(const std::string& name) {
  for (EventKind k : {EventKind::rating, EventKind::pairwise, EventKind::click, EventKind::text}) {
    if (name == kind_name(k)) return k;
  }
  return std::nullopt;
}

double Event::normalized_value() const {
  auto s = rating_scale();
  return (value - s[0]) / (s[1] - s[0]);
}

namespace {

// "YYYY-MM-DD" at least; the rest (time, zone) is free so that lexicographic
// order of timestamps written the same way is chronological order.
bool looks_like_iso_date(const std::string& ts) {
  if (ts.size() < 10) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(ts[i]))) return false;
  }
  return ts[4] == '-' && ts[7] == '-';
}

std::string show_number(double v) { return number_json(v).dump(); }

std::optional<std::array<double, 2>> read_scale(FieldReader& f, bool& ok) {
  f.mark_known("scale");
  if (!f.has("scale")) return std::nullopt;
  const auto& s = f.at("scale");
  if (!s.is_array() || s.size() != 2 || !s[0].is_number() || !s[1].is_number()) {
    f.problem("scale", "expected [low, high] (two numbers), got " + json_excerpt(s));
    ok = false;
    return std::nullopt;
  }
  std::array<double, 2> scale{s[0].get<double>(), s[1].get<double>()};
  if (!(scale[0] < scale[1])) {
    f.problem("scale", "low must be below high, got " + json_excerpt(s));
    ok = false;
    return std::nullopt;
  }
  return scale;
}

void read_rating(FieldReader& f, Event& e, bool& ok) {
  auto item = f.string("item", true);
  auto value = f.number("value", true);
  auto scale = read_scale(f, ok);
  ok = ok && item && value;
  if (!ok) return;
  e.item = *item;
  e.value = *value;
  e.scale = scale;
  auto range = e.rating_scale();
  if (e.value < range[0] || e.value > range[1]) {
    f.problem("value", "value " + show_number(e.value) + " is outside the scale [" + show_number(range[0]) + ", " +
                           show_number(range[1]) + "]" + (scale ? "" : " (the default when \"scale\" is absent)"));
    ok = false;
  }
}

void read_pairwise(FieldReader& f, Event& e, bool& ok) {
  auto chosen = f.string("chosen", true);
  auto rejected = f.string("rejected", true);
  auto context = f.string("context", false, false);
  ok = ok && chosen && rejected && (context || !f.has("context"));
  if (!ok) return;
  if (*chosen == *rejected) {
    f.problem("rejected", "is identical to \"chosen\"");
    ok = false;
    return;
  }
  e.chosen = *chosen;
  e.rejected = *rejected;
  e.context = context.value_or("");
}

void read_click(FieldReader& f, Event& e, bool& ok) {
  auto item = f.string("item", true);
  auto context = f.string("context", false, false);
  ok = ok && item && (context || !f.has("context"));
  if (!ok) return;
  e.item = *item;
  e.context = context.value_or("");
}

void read_text(FieldReader& f, Event& e, bool& ok) {
  auto text = f.string("text", true);
  ok = ok && text;
  if (ok) e.text = *text;
}

}  // namespace

std::optional<Event> parse_event(const JsonlRecord& record, const nlohmann::json& object, const std::string& path,
                                 Problems& problems) {
  if (!object.is_object()) {
    problems.push_back({record.where(path), std::string("expected an object, got ") + object.type_name()});
    return std::nullopt;
  }
  const std::size_t before = problems.size();
  FieldReader f(record, object, path, problems);
  Event e;
  auto id = f.string("id", true);
  auto kind = f.string("kind", true);
  auto source = f.string("source", false, false);
  auto ts = f.string("ts", false);
  auto category = f.string("category", false, false);
  if (ts && !looks_like_iso_date(*ts)) {
    f.problem("ts", "expected an ISO 8601 time (YYYY-MM-DD...), got \"" + *ts + "\"");
  }
  bool ok = true;
  if (kind) {
    auto parsed = kind_from_name(*kind);
    if (!parsed) {
      f.problem("kind", "unknown kind \"" + *kind + "\" (expected rating, pairwise, click or text)");
      ok = false;
    } else {
      e.kind = *parsed;
      switch (e.kind) {
        case EventKind::rating: read_rating(f, e, ok); break;
        case EventKind::pairwise: read_pairwise(f, e, ok); break;
        case EventKind::click: read_click(f, e, ok); break;
        case EventKind::text: read_text(f, e, ok); break;
      }
    }
  }
  if (problems.size() != before || !ok || !id || !kind) return std::nullopt;
  e.id = *id;
  e.source = source.value_or("");
  e.ts = ts.value_or("");
  e.category = category.value_or("");
  e.extra = f.unknown_fields();
  return e;
}

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = e.extra;
  j["id"] = e.id;
  j["kind"] = kind_name(e.kind);
  if (!e.source.empty()) j["source"] = e.source;
  if (!e.ts.empty()) j["ts"] = e.ts;
  if (!e.category.empty()) j["category"] = e.category;
  switch (e.kind) {
    case EventKind::rating:
      j["item"] = e.item;
      j["value"] = number_json(e.value);
      if (e.scale) j["scale"] = {number_json((*e.scale)[0]), number_json((*e.scale)[1])};
      break;
    case EventKind::pairwise:
      if (!e.context.empty()) j["context"] = e.context;
      j["chosen"] = e.chosen;
      j["rejected"] = e.rejected;
      break;
    case EventKind::click:
      j["item"] = e.item;
      if (!e.context.empty()) j["context"] = e.context;
      break;
    case EventKind::text: j["text"] = e.text; break;
  }
  return j;
}

}  // namespace upm::data
