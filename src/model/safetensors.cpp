#include "upm/model/safetensors.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"

namespace upm {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace {

struct DtypeInfo {
  const char* name;
  size_t size;
  torch::ScalarType torch_type;  // Undefined: torch 1.13 has no such dtype
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", 8, torch::kDouble},
    {"F32", 4, torch::kFloat},
    {"F16", 2, torch::kHalf},
    {"BF16", 2, torch::kBFloat16},
    {"I64", 8, torch::kLong},
    {"I32", 4, torch::kInt},
    {"I16", 2, torch::kShort},
    {"I8", 1, torch::kChar},
    {"U8", 1, torch::kByte},
    {"BOOL", 1, torch::kBool},
    {"U16", 2, torch::ScalarType::Undefined},
    {"U32", 4, torch::ScalarType::Undefined},
    {"U64", 8, torch::ScalarType::Undefined},
};

// JSON nesting deeper than this is no tensor header; checked before parsing so
// that hostile input cannot exhaust the stack in the parser or destructor.
constexpr int kMaxJsonDepth = 16;

bool nesting_within_limit(const char* text, size_t n) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < n; ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& problem) {
  throw InputError(Location{source, 0, field}, "safetensors header: " + problem);
}

uint64_t read_offset(const nlohmann::json& v, const std::string& source, const std::string& field) {
  if (!v.is_number_unsigned()) fail(source, field, "data_offsets must be non-negative integers");
  return v.get<uint64_t>();
}

SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& j, uint64_t data_size,
                             const std::string& source) {
  if (!j.is_object()) fail(source, name, "entry must be an object");
  if (!j.contains("dtype") || !j["dtype"].is_string()) fail(source, name, "missing string \"dtype\"");
  if (!j.contains("shape") || !j["shape"].is_array()) fail(source, name, "missing array \"shape\"");
  if (!j.contains("data_offsets") || !j["data_offsets"].is_array() || j["data_offsets"].size() != 2) {
    fail(source, name, "\"data_offsets\" must be [begin, end]");
  }
  SafetensorsEntry e;
  e.dtype = j["dtype"].get<std::string>();
  const size_t element = safetensors_dtype_size(e.dtype);
  if (element == 0) fail(source, name, "unknown dtype \"" + e.dtype + "\"");
  uint64_t count = 1;
  for (const auto& dim : j["shape"]) {
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t(INT64_MAX)) {
      fail(source, name, "shape dimensions must be non-negative integers");
    }
    uint64_t d = dim.get<uint64_t>();
    if (__builtin_mul_overflow(count, d, &count)) fail(source, name, "shape element count overflows");
    e.shape.push_back(int64_t(d));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(count, uint64_t(element), &nbytes)) fail(source, name, "tensor byte size overflows");
  e.begin = read_offset(j["data_offsets"][0], source, name);
  e.end = read_offset(j["data_offsets"][1], source, name);
  if (e.begin > e.end) fail(source, name, "data_offsets begin > end");
  if (e.end > data_size) {
    fail(source, name,
         "data_offsets end " + std::to_string(e.end) + " beyond the data buffer (" + std::to_string(data_size) +
             " bytes)");
  }
  if (e.end - e.begin != nbytes) {
    fail(source, name,
         "holds " + std::to_string(e.end - e.begin) + " bytes but dtype " + e.dtype + " x shape needs " +
             std::to_string(nbytes));
  }
  return e;
}

void check_no_overlap(const SafetensorsHeader& h, const std::string& source) {
  std::vector<std::pair<uint64_t, const std::string*>> starts;
  for (const auto& [name, e] : h.tensors) {
    if (e.nbytes() > 0) starts.emplace_back(e.begin, &name);
  }
  std::sort(starts.begin(), starts.end());
  for (size_t i = 1; i < starts.size(); ++i) {
    const auto& prev = h.tensors.at(*starts[i - 1].second);
    if (starts[i].first < prev.end) {
      fail(source, *starts[i].second, "data overlaps tensor \"" + *starts[i - 1].second + "\"");
    }
  }
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
  for (const auto& d : kDtypes) {
    if (dtype == d.name) return d.size;
  }
  return 0;
}

torch::ScalarType safetensors_dtype_to_torch(const std::string& dtype, const std::string& where) {
  for (const auto& d : kDtypes) {
    if (dtype == d.name && d.torch_type != torch::ScalarType::Undefined) return d.torch_type;
  }
  throw InputError(Location{where, 0, ""}, "safetensors dtype \"" + dtype + "\" is not supported by LibTorch");
}

std::string torch_dtype_to_safetensors(torch::ScalarType dtype) {
  for (const auto& d : kDtypes) {
    if (d.torch_type == dtype) return d.name;
  }
  throw Error(std::string("no safetensors dtype for ") + c10::toString(dtype));
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source) {
  if (size < 8) fail(source, "", "file of " + std::to_string(size) + " bytes is too short");
  const uint64_t n = read_u64_le(bytes);
  if (n > kMaxSafetensorsHeaderBytes) fail(source, "", "header length " + std::to_string(n) + " is too large");
  if (n > size - 8) fail(source, "", "header length " + std::to_string(n) + " exceeds the file");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  if (!nesting_within_limit(text, n)) fail(source, "", "JSON nested too deeply");
  nlohmann::json j = nlohmann::json::parse(text, text + n, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, "", "header is not valid JSON");
  if (!j.is_object()) fail(source, "", "header must be a JSON object");

  SafetensorsHeader h;
  h.data_start = 8 + n;
  const uint64_t data_size = size - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(source, "__metadata__", "must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(source, "__metadata__." + m.key(), "must be a string");
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    h.tensors[it.key()] = parse_entry(it.key(), *it, data_size, source);
  }
  check_no_overlap(h, source);
  return h;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), file_(path, "safetensors file") {
  header_ = parse_safetensors_header(file_.data(), file_.size(), path);
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = header_.tensors.find(name);
  if (it == header_.tensors.end()) throw InputError(Location{path_, 0, name}, "no such tensor in the file");
  return it->second;
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const auto dtype = safetensors_dtype_to_torch(e.dtype, path_ + ": " + name);
  auto options = torch::TensorOptions().dtype(dtype).device(torch::kCPU);
  void* p = const_cast<uint8_t*>(data(e));
  const size_t element = safetensors_dtype_size(e.dtype);
  if (reinterpret_cast<uintptr_t>(p) % element == 0) return torch::from_blob(p, e.shape, options);
  // Misaligned data: typed loads would be undefined behaviour, so copy bytes.
  torch::Tensor out = torch::empty(e.shape, options);
  std::memcpy(out.data_ptr(), p, e.nbytes());
  return out;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (header.contains(name)) throw Error("write_safetensors: duplicate tensor name " + name);
    const uint64_t nbytes = uint64_t(t.numel()) * t.element_size();
    header[name] = {{"dtype", torch_dtype_to_safetensors(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  // Pad with spaces so that the data buffer starts 8-byte aligned.
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = uint8_t(uint64_t(text.size()) >> (8 * i));

  AtomicFileWriter out(path);
  out.write(std::string_view(reinterpret_cast<const char*>(length), 8));
  out.write(text);
  for (const auto& [name, t] : tensors) {
    torch::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
    out.write(std::string_view(static_cast<const char*>(cpu.data_ptr()), cpu.numel() * cpu.element_size()));
  }
  out.commit();
}

}  // namespace upm
