#include "wire_fields.h"

#include <cmath>
#include <limits>

#include "upm/core/error.h"

namespace upm::openai::wire {

namespace {

std::string type_name(const nlohmann::json& v) { return v.type_name(); }

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string range_text(double min, double max) {
  auto show = [](double x) {
    if (std::isinf(x)) return std::string(x < 0 ? "-inf" : "inf");
    if (x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(int64_t(x));
    return nlohmann::json(x).dump();
  };
  return "[" + show(min) + ", " + show(max) + "]";
}

}  // namespace

void Field::fail(const std::string& problem) const { throw InputError(Location{source, 0, path}, problem); }

Field member(const nlohmann::json& object, const std::string& key, const std::string& source,
             const std::string& parent) {
  auto it = object.find(key);
  const nlohmann::json* value = (it == object.end() || it->is_null()) ? nullptr : &*it;
  return Field{value, source, join_path(parent, key)};
}

Field root(const nlohmann::json& document, const std::string& source) { return Field{&document, source, ""}; }

Field element(const Field& array, size_t i) {
  const nlohmann::json& v = (*array.value)[i];
  return Field{v.is_null() ? nullptr : &v, array.source, array.path + "[" + std::to_string(i) + "]"};
}

const nlohmann::json& object_at(const Field& f) {
  if (!f.present()) f.fail("missing (expected an object)");
  if (!f.value->is_object()) f.fail("expected an object, got " + type_name(*f.value));
  return *f.value;
}

const nlohmann::json& array_at(const Field& f) {
  if (!f.present()) f.fail("missing (expected an array)");
  if (!f.value->is_array()) f.fail("expected an array, got " + type_name(*f.value));
  return *f.value;
}

std::string string_at(const Field& f) {
  if (!f.present()) f.fail("missing (expected a string)");
  if (!f.value->is_string()) f.fail("expected a string, got " + type_name(*f.value));
  return f.value->get<std::string>();
}

bool bool_at(const Field& f, bool fallback) {
  if (!f.present()) return fallback;
  if (!f.value->is_boolean()) f.fail("expected true or false, got " + type_name(*f.value));
  return f.value->get<bool>();
}

double number_at(const Field& f, double fallback, double min, double max) {
  if (!f.present()) return fallback;
  if (!f.value->is_number()) f.fail("expected a number, got " + type_name(*f.value));
  const double v = f.value->get<double>();
  if (!(v >= min && v <= max)) f.fail("expected a number in " + range_text(min, max) + ", got " + f.value->dump());
  return v;
}

int64_t integer_at(const Field& f, int64_t fallback, int64_t min, int64_t max) {
  if (!f.present()) return fallback;
  const nlohmann::json& v = *f.value;
  const std::string expected = "expected an integer in " + range_text(double(min), double(max));
  int64_t out = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) f.fail(expected + ", got " + v.dump());
    out = int64_t(u);
  } else if (v.is_number_integer()) {
    out = v.get<int64_t>();
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
             std::fabs(v.get<double>()) < 9e15) {
    out = int64_t(v.get<double>());  // 256.0 from clients that only have doubles
  } else {
    f.fail(expected + ", got " + (v.is_number() ? v.dump() : type_name(v)));
  }
  if (out < min || out > max) f.fail(expected + ", got " + v.dump());
  return out;
}

std::string one_of(const Field& f, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  if (!f.present()) f.fail("missing (expected one of " + list + ")");
  if (f.value->is_string()) {
    const std::string v = f.value->get<std::string>();
    for (const auto& a : allowed) {
      if (v == a) return v;
    }
  }
  f.fail("expected one of " + list + ", got " +
         f.value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace upm::openai::wire
