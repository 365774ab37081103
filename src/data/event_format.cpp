#include "upm/data/event_format.h"

#include "field_reader.h"

namespace upm::data {

std::string one_line(const std::string& text, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars + 3));
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() > max_chars) break;
  }
  if (out.size() > max_chars) {
    std::size_t cut = max_chars;
    // Step back over UTF-8 continuation bytes so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

namespace {

std::string quoted(const std::string& text, std::size_t max_chars) { return "\"" + one_line(text, max_chars) + "\""; }

std::string header(const Event& e) {
  std::string date = e.ts.substr(0, 10);
  if (date.empty() && e.source.empty()) return "- ";
  if (date.empty()) return "- [" + e.source + "] ";
  if (e.source.empty()) return "- [" + date + "] ";
  return "- [" + date + " | " + e.source + "] ";
}

}  // namespace

std::string format_event(const Event& e, std::size_t max_chars) {
  std::string line = header(e);
  switch (e.kind) {
    case EventKind::rating: {
      auto scale = e.rating_scale();
      line += "rated " + quoted(e.item, max_chars) + " " + detail::number_json(e.value).dump() + " on a " +
              detail::number_json(scale[0]).dump() + "-" + detail::number_json(scale[1]).dump() + " scale";
      break;
    }
    case EventKind::pairwise:
      if (!e.context.empty()) line += "asked " + quoted(e.context, max_chars) + ": ";
      line += "preferred " + quoted(e.chosen, max_chars) + " over " + quoted(e.rejected, max_chars);
      break;
    case EventKind::click: line += "clicked " + quoted(e.item, max_chars); break;
    case EventKind::text: line += "wrote " + quoted(e.text, max_chars); break;
  }
  return line;
}

std::string format_events(const std::vector<Event>& events, std::size_t max_chars) {
  std::string out;
  for (const auto& e : events) {
    if (!out.empty()) out += '\n';
    out += format_event(e, max_chars);
  }
  return out;
}

}  // namespace upm::data
