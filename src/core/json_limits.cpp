#include "upm/core/json_limits.h"

#include <algorithm>
#include <atomic>
#include <vector>

namespace upm {

namespace {

std::atomic<int> g_max_json_depth{kDefaultMaxJsonDepth};

// One open array or object of the scan, and the slot being filled in it.
struct Frame {
  bool object = false;
  std::size_t open_offset = 0;  // where its '[' or '{' is
  std::size_t index = 0;        // arrays: the element's index
  std::string key;              // objects: the member's key (raw, capped)
  bool expecting_key = false;   // objects: a string now is a key
};

constexpr std::size_t kMaxKeyChars = 40;
constexpr std::size_t kMaxPathParts = 8;

// The too-deep value is named by the longest prefix of the open slots that
// ends in a (non-empty) object key (trailing array indexes say little), at most
// kMaxPathParts parts; returns the frame index that prefix ends at, or -1.
long named_prefix_end(const std::vector<Frame>& frames) {
  long end = -1;
  const std::size_t parts = std::min(frames.size() - 1, kMaxPathParts);
  for (std::size_t i = 0; i < parts; ++i) {
    if (frames[i].object && !frames[i].key.empty()) end = long(i);
  }
  return end;
}

std::string path_of(const std::vector<Frame>& frames, long end) {
  std::string path;
  for (long i = 0; i <= end; ++i) {
    const Frame& f = frames[std::size_t(i)];
    if (f.object)
      path += (path.empty() ? "" : ".") + f.key;
    else
      path += "[" + std::to_string(f.index) + "]";
  }
  return path;
}

// Length of the valid UTF-8 sequence at text[i], or 0 when invalid.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t len;
  unsigned char low = 0x80, high = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  if (b(1) < low || b(1) > high) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return len;
}

void excerpt_into(const nlohmann::json& value, int depth, std::size_t budget, std::string& out) {
  if (out.size() > budget) return;
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    const std::string head = s.size() > budget ? s.substr(0, budget) : s;
    out += nlohmann::json(head).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  if (!value.is_structured()) {
    out += value.dump();
    return;
  }
  const bool object = value.is_object();
  if (depth >= 3 && !value.empty()) {
    out += object ? "{...}" : "[...]";
    return;
  }
  out += object ? '{' : '[';
  bool first = true;
  for (auto it = value.begin(); it != value.end() && out.size() <= budget; ++it) {
    if (!first) out += ',';
    first = false;
    if (object) out += nlohmann::json(it.key()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ':';
    excerpt_into(*it, depth + 1, budget, out);
  }
  out += object ? '}' : ']';
}

}  // namespace

int max_json_depth() { return g_max_json_depth.load(std::memory_order_relaxed); }

void set_max_json_depth(int depth) { g_max_json_depth.store(depth < 1 ? 1 : depth, std::memory_order_relaxed); }

std::optional<JsonDepthProblem> check_json_depth(std::string_view text, int max_depth) {
  std::vector<Frame> frames;
  bool in_string = false, escaped = false, in_key = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = in_key = false;
      if (in_key && in_string && frames.back().key.size() < kMaxKeyChars) frames.back().key += c;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        if (!frames.empty() && frames.back().object && frames.back().expecting_key) {
          in_key = true;
          frames.back().key.clear();
          frames.back().expecting_key = false;
        }
        break;
      case '{':
      case '[':
        frames.push_back(Frame{c == '{', i, 0, "", c == '{'});
        if (long(frames.size()) > max_depth) {
          const long end = named_prefix_end(frames);
          JsonDepthProblem p;
          p.field = path_of(frames, end);
          p.offset = frames[std::size_t(end + 1)].open_offset;
          p.problem =
              "nested deeper than " + std::to_string(max_depth) +
              " levels (the limit; --max-json-depth raises it); value begins: " + text_excerpt(text.substr(p.offset));
          return p;
        }
        break;
      case '}':
      case ']':
        if (!frames.empty()) frames.pop_back();
        break;
      case ',':
        if (!frames.empty()) {
          if (frames.back().object)
            frames.back().expecting_key = true;
          else
            ++frames.back().index;
        }
        break;
      default: break;
    }
  }
  return std::nullopt;
}

nlohmann::json parse_json_bounded(std::string_view text, int max_depth, std::string* error, std::string* field) {
  if (auto deep = check_json_depth(text, max_depth)) {
    if (error) *error = deep->problem;
    if (field) *field = deep->field;
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    if (error) *error = "invalid JSON";
    if (field) field->clear();
  }
  return value;
}

std::string text_excerpt(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = utf8_length(text, i);
    if (out.size() + (len ? len : 3) > max_chars) break;
    if (len)
      out.append(text.substr(i, len));
    else
      out += "\xEF\xBF\xBD";  // U+FFFD for an invalid byte
    i += len ? len : 1;
  }
  if (i < text.size()) out += "\xE2\x80\xA6";  // "…"
  return out;
}

std::string json_excerpt(const nlohmann::json& value, std::size_t max_chars) {
  std::string out;
  excerpt_into(value, 0, max_chars, out);
  if (out.size() <= max_chars) return out;
  return text_excerpt(out, max_chars);
}

}  // namespace upm
