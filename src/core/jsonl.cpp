#include "upm/core/jsonl.h"

#include <cerrno>
#include <cstring>
#include <limits>

#include "upm/core/json_limits.h"

namespace upm {

JsonlReader::JsonlReader(const std::string& path, int max_depth)
    : path_(path), max_depth_(max_depth < 0 ? max_json_depth() : max_depth) {
  if (path == "-") {
    file_ = stdin;
    owns_file_ = false;
    path_ = "<stdin>";
    return;
  }
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw InputError(Location{path, 0, ""}, std::string("cannot open: ") + std::strerror(errno));
}

JsonlReader::~JsonlReader() {
  if (file_ && owns_file_) std::fclose(file_);
}

std::optional<JsonlRecord> JsonlReader::next() {
  while (true) {
    buffer_.clear();
    int c;
    bool any = false;
    while ((c = std::fgetc(file_)) != EOF) {
      any = true;
      if (c == '\n') break;
      buffer_.push_back(static_cast<char>(c));
    }
    if (!any) return std::nullopt;
    ++line_;
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    if (buffer_.find_first_not_of(" \t") == std::string::npos) continue;

    JsonlRecord record;
    record.file = path_;
    record.line = line_;
    record.raw = buffer_;
    // Parse without exceptions: garbage input is expected, not exceptional.
    record.value = parse_json_bounded(buffer_, max_depth_, &record.error, &record.error_field);
    if (record.value.is_discarded()) {
      record.value = nullptr;
    } else if (!record.value.is_object()) {
      record.error = std::string("expected a JSON object, got ") + record.value.type_name();
      record.value = nullptr;
    }
    return record;
  }
}

std::optional<JsonlRecord> JsonlReader::next_strict() {
  auto record = next();
  if (record && !record->ok()) throw InputError(record->where(), record->error);
  return record;
}

namespace {

template <class T>
bool convert(const nlohmann::json& j, T& out, std::string& expected) {
  if constexpr (std::is_same_v<T, std::string>) {
    expected = "a string";
    if (!j.is_string()) return false;
    out = j.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    expected = "true or false";
    if (!j.is_boolean()) return false;
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    expected = "an integer";
    if (!j.is_number_integer()) return false;
    if (j.is_number_unsigned()) {
      auto v = j.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
      out = static_cast<T>(v);
    } else {
      auto v = j.get<int64_t>();
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        return false;
      }
      out = static_cast<T>(v);
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    expected = "a number";
    if (!j.is_number()) return false;
    out = j.get<T>();
  } else {
    out = j;
  }
  return true;
}

}  // namespace

template <class T>
T get_field(const JsonlRecord& record, const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) record.fail(field, "required field is missing");
  T out{};
  std::string expected;
  if (!convert(*it, out, expected)) record.fail(field, "expected " + expected + ", got " + json_excerpt(*it));
  return out;
}

template <class T>
T get_field_or(const JsonlRecord& record, const nlohmann::json& object, const char* field, T fallback) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return fallback;
  return get_field<T>(record, object, field);
}

#define UPM_INSTANTIATE_FIELD(T)                                                   \
  template T get_field<T>(const JsonlRecord&, const nlohmann::json&, const char*); \
  template T get_field_or<T>(const JsonlRecord&, const nlohmann::json&, const char*, T);
UPM_INSTANTIATE_FIELD(std::string)
UPM_INSTANTIATE_FIELD(int64_t)
UPM_INSTANTIATE_FIELD(int)
UPM_INSTANTIATE_FIELD(double)
UPM_INSTANTIATE_FIELD(bool)
UPM_INSTANTIATE_FIELD(nlohmann::json)
#undef UPM_INSTANTIATE_FIELD

std::vector<nlohmann::json> read_jsonl_file(const std::string& path) {
  JsonlReader reader(path);
  std::vector<nlohmann::json> out;
  while (auto record = reader.next_strict()) out.push_back(std::move(record->value));
  return out;
}

}  // namespace upm
