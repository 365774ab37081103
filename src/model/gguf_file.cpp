#include "upm/model/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "upm/core/error.h"

namespace upm {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "GGUF data is little-endian");

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxDims = 4;             // GGML_MAX_DIMS
// Arrays inside arrays are legal GGUF but no model uses more than one level;
// the bound keeps hostile input from exhausting the stack.
constexpr int kMaxArrayDepth = 4;

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& problem) {
  throw InputError(Location{source, 0, field}, "GGUF: " + problem);
}

// Reads little-endian values from the header, failing (with the field being
// read) instead of running past the end of the file.
class Cursor {
 public:
  Cursor(const uint8_t* bytes, size_t size, std::string source)
      : bytes_(bytes), size_(size), source_(std::move(source)) {}

  template <class T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, bytes_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string read_string(const std::string& field) {
    uint64_t length = read<uint64_t>(field);
    need(length, field);
    std::string text(reinterpret_cast<const char*>(bytes_ + pos_), length);
    pos_ += length;
    return text;
  }
  void need(uint64_t n, const std::string& field) const {
    if (n > size_ - pos_)
      fail(source_, field,
           "truncated file: needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) + ", file has " +
               std::to_string(size_));
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& source() const { return source_; }

 private:
  const uint8_t* bytes_;
  size_t size_;
  size_t pos_ = 0;
  std::string source_;
};

bool is_signed(GgufValueType type) {
  return type == GgufValueType::kInt8 || type == GgufValueType::kInt16 || type == GgufValueType::kInt32 ||
         type == GgufValueType::kInt64;
}

bool known_value_type(uint32_t type) { return type <= static_cast<uint32_t>(GgufValueType::kFloat64); }

// Smallest encoding of one value of `type`: a bound on how many array items
// the rest of the file can hold, checked before reserving memory for them.
uint64_t min_value_bytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32: return 4;
    case GgufValueType::kString:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64: return 8;
    case GgufValueType::kArray: return 12;
  }
  return 1;
}

GgufValue read_value(Cursor& in, GgufValueType type, const std::string& key, int depth) {
  GgufValue value;
  value.type = type;
  switch (type) {
    case GgufValueType::kUint8: value.unsigned_integer = in.read<uint8_t>(key); break;
    case GgufValueType::kUint16: value.unsigned_integer = in.read<uint16_t>(key); break;
    case GgufValueType::kUint32: value.unsigned_integer = in.read<uint32_t>(key); break;
    case GgufValueType::kUint64: value.unsigned_integer = in.read<uint64_t>(key); break;
    case GgufValueType::kInt8: value.integer = in.read<int8_t>(key); break;
    case GgufValueType::kInt16: value.integer = in.read<int16_t>(key); break;
    case GgufValueType::kInt32: value.integer = in.read<int32_t>(key); break;
    case GgufValueType::kInt64: value.integer = in.read<int64_t>(key); break;
    case GgufValueType::kFloat32: value.number = in.read<float>(key); break;
    case GgufValueType::kFloat64: value.number = in.read<double>(key); break;
    case GgufValueType::kBool: {
      uint8_t b = in.read<uint8_t>(key);
      if (b > 1) fail(in.source(), key, "bool value " + std::to_string(b) + " is neither 0 nor 1");
      value.boolean = b == 1;
      break;
    }
    case GgufValueType::kString: value.string = in.read_string(key); break;
    case GgufValueType::kArray: {
      if (depth >= kMaxArrayDepth)
        fail(in.source(), key, "arrays nested deeper than " + std::to_string(kMaxArrayDepth));
      uint32_t element = in.read<uint32_t>(key);
      if (!known_value_type(element)) fail(in.source(), key, "unknown array element type " + std::to_string(element));
      value.element_type = static_cast<GgufValueType>(element);
      uint64_t count = in.read<uint64_t>(key);
      if (count > in.remaining() / min_value_bytes(value.element_type))
        fail(in.source(), key, "truncated file: array of " + std::to_string(count) + " items does not fit");
      value.items.reserve(count);
      for (uint64_t i = 0; i < count; ++i)
        value.items.push_back(read_value(in, value.element_type, key + "[" + std::to_string(i) + "]", depth + 1));
      break;
    }
  }
  return value;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& source, const std::string& field) {
  if (b != 0 && a > UINT64_MAX / b) fail(source, field, "size overflows 64 bits");
  return a * b;
}

GgufTensorInfo read_tensor_info(Cursor& in, size_t index) {
  std::string where = "tensor #" + std::to_string(index);
  GgufTensorInfo tensor;
  tensor.name = in.read_string(where + " name");
  const std::string& name = tensor.name;
  uint32_t n_dims = in.read<uint32_t>(name);
  if (n_dims == 0 || n_dims > kMaxDims)
    fail(in.source(), name, "wrong shape: " + std::to_string(n_dims) + " dims (1 to 4 allowed)");
  uint64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t dim = in.read<uint64_t>(name);
    if (dim == 0 || dim > static_cast<uint64_t>(INT64_MAX))
      fail(in.source(), name, "wrong shape: dim " + std::to_string(d) + " is " + std::to_string(dim));
    elements = checked_mul(elements, dim, in.source(), name);
    tensor.dims.push_back(dim);
  }
  uint32_t type = in.read<uint32_t>(name);
  GgmlTypeTraits traits = ggml_type_traits(type);
  if (!traits.name) fail(in.source(), name, "unknown ggml type " + std::to_string(type));
  tensor.type = static_cast<GgmlType>(type);
  if (tensor.dims[0] % traits.block_size != 0)
    fail(in.source(), name,
         "wrong shape: row of " + std::to_string(tensor.dims[0]) + " elements is not a whole number of " + traits.name +
             " blocks of " + std::to_string(traits.block_size));
  tensor.nbytes = checked_mul(elements / traits.block_size, traits.type_size, in.source(), name);
  tensor.offset = in.read<uint64_t>(name);
  return tensor;
}

void check_tensor_layout(GgufHeader& header, size_t file_size, const std::string& source) {
  uint64_t data_size = file_size - header.data_start;
  std::vector<const GgufTensorInfo*> by_offset;
  std::map<std::string, int> seen;
  for (const GgufTensorInfo& tensor : header.tensors) {
    if (seen[tensor.name]++) fail(source, tensor.name, "tensor name appears twice");
    if (tensor.offset % header.alignment != 0)
      fail(source, tensor.name,
           "data offset " + std::to_string(tensor.offset) + " is not a multiple of the alignment " +
               std::to_string(header.alignment));
    if (tensor.offset > data_size || tensor.nbytes > data_size - tensor.offset)
      fail(source, tensor.name,
           "truncated file: tensor data [" + std::to_string(tensor.offset) + ", " +
               std::to_string(tensor.offset + tensor.nbytes) + ") runs past the " + std::to_string(data_size) +
               " data bytes");
    by_offset.push_back(&tensor);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->nbytes > by_offset[i]->offset)
      fail(source, by_offset[i]->name, "tensor data overlaps " + by_offset[i - 1]->name);
}

const GgufValue& typed(const GgufHeader& header, const std::string& key, const std::string& source, bool want_array) {
  const GgufValue* value = header.find(key);
  if (!value) fail(source, key, "missing key");
  if ((value->type == GgufValueType::kArray) != want_array)
    fail(source, key, want_array ? "expected an array" : "expected a single value, got an array");
  return *value;
}

}  // namespace

const char* gguf_value_type_name(GgufValueType type) {
  static const char* const kNames[] = {"uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
                                       "bool",  "string", "array",  "uint64", "int64",  "float64"};
  uint32_t id = static_cast<uint32_t>(type);
  return id < sizeof(kNames) / sizeof(kNames[0]) ? kNames[id] : "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64: return true;
    default: return false;
  }
}

uint64_t GgufTensorInfo::element_count() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

std::vector<int64_t> GgufTensorInfo::shape() const { return std::vector<int64_t>(dims.rbegin(), dims.rend()); }

const GgufValue* GgufHeader::find(const std::string& key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufHeader::find_tensor(const std::string& name) const {
  for (const GgufTensorInfo& tensor : tensors)
    if (tensor.name == name) return &tensor;
  return nullptr;
}

GgufHeader parse_gguf_header(const uint8_t* bytes, size_t size, const std::string& source) {
  Cursor in(bytes, size, source);
  GgufHeader header;
  if (in.read<uint32_t>("magic") != kGgufMagic) fail(source, "magic", "not a GGUF file (no \"GGUF\" magic)");
  header.version = in.read<uint32_t>("version");
  if (header.version != 2 && header.version != 3)
    fail(source, "version", "version " + std::to_string(header.version) + " (2 and 3 are supported)");
  uint64_t tensor_count = in.read<uint64_t>("tensor_count");
  uint64_t kv_count = in.read<uint64_t>("kv_count");
  // Each key-value pair takes at least 12 bytes, each tensor record 24.
  if (kv_count > in.remaining() / 12)
    fail(source, "kv_count", "truncated file: " + std::to_string(kv_count) + " keys do not fit");
  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = in.read_string("key #" + std::to_string(i));
    uint32_t type = in.read<uint32_t>(key);
    if (!known_value_type(type)) fail(source, key, "unknown value type " + std::to_string(type));
    GgufValue value = read_value(in, static_cast<GgufValueType>(type), key, 0);
    if (!header.metadata.emplace(key, std::move(value)).second) fail(source, key, "key appears twice");
  }
  if (tensor_count > in.remaining() / 24)
    fail(source, "tensor_count", "truncated file: " + std::to_string(tensor_count) + " tensor records do not fit");
  header.tensors.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) header.tensors.push_back(read_tensor_info(in, i));

  if (const GgufValue* alignment = header.find("general.alignment")) {
    if (alignment->type != GgufValueType::kUint32 || alignment->unsigned_integer == 0 ||
        (alignment->unsigned_integer & (alignment->unsigned_integer - 1)) != 0)
      fail(source, "general.alignment", "must be a uint32 power of two");
    header.alignment = alignment->unsigned_integer;
  }
  uint64_t start = (in.pos() + header.alignment - 1) / header.alignment * header.alignment;
  if (!header.tensors.empty() && start > size)
    fail(source, "data",
         "truncated file: the data section would start at " + std::to_string(start) + ", file has " +
             std::to_string(size) + " bytes");
  header.data_start = std::min<uint64_t>(start, size);
  check_tensor_layout(header, size, source);
  return header;
}

std::optional<uint64_t> gguf_unsigned(const GgufHeader& header, const std::string& key, const std::string& source) {
  if (!header.find(key)) return std::nullopt;
  const GgufValue& value = typed(header, key, source, false);
  if (!value.is_integer())
    fail(source, key, std::string("expected an integer, got ") + gguf_value_type_name(value.type));
  if (!is_signed(value.type)) return value.unsigned_integer;
  if (value.integer < 0) fail(source, key, "expected a non-negative integer, got " + std::to_string(value.integer));
  return static_cast<uint64_t>(value.integer);
}

std::optional<double> gguf_number(const GgufHeader& header, const std::string& key, const std::string& source) {
  if (!header.find(key)) return std::nullopt;
  const GgufValue& value = typed(header, key, source, false);
  if (value.is_float()) return value.number;
  if (value.is_integer())
    return is_signed(value.type) ? static_cast<double>(value.integer) : static_cast<double>(value.unsigned_integer);
  fail(source, key, std::string("expected a number, got ") + gguf_value_type_name(value.type));
}

std::optional<std::string> gguf_string(const GgufHeader& header, const std::string& key, const std::string& source) {
  if (!header.find(key)) return std::nullopt;
  const GgufValue& value = typed(header, key, source, false);
  if (value.type != GgufValueType::kString)
    fail(source, key, std::string("expected a string, got ") + gguf_value_type_name(value.type));
  return value.string;
}

std::optional<bool> gguf_bool(const GgufHeader& header, const std::string& key, const std::string& source) {
  if (!header.find(key)) return std::nullopt;
  const GgufValue& value = typed(header, key, source, false);
  if (value.type != GgufValueType::kBool)
    fail(source, key, std::string("expected a bool, got ") + gguf_value_type_name(value.type));
  return value.boolean;
}

uint64_t gguf_required_unsigned(const GgufHeader& header, const std::string& key, const std::string& source) {
  auto value = gguf_unsigned(header, key, source);
  if (!value) fail(source, key, "missing key");
  return *value;
}

std::string gguf_required_string(const GgufHeader& header, const std::string& key, const std::string& source) {
  auto value = gguf_string(header, key, source);
  if (!value) fail(source, key, "missing key");
  return *value;
}

std::vector<std::string> gguf_string_array(const GgufHeader& header, const std::string& key,
                                           const std::string& source) {
  const GgufValue& value = typed(header, key, source, true);
  if (value.element_type != GgufValueType::kString)
    fail(source, key,
         std::string("expected an array of strings, got one of ") + gguf_value_type_name(value.element_type));
  std::vector<std::string> out;
  out.reserve(value.items.size());
  for (const GgufValue& item : value.items) out.push_back(item.string);
  return out;
}

std::vector<int64_t> gguf_integer_array(const GgufHeader& header, const std::string& key, const std::string& source) {
  const GgufValue& value = typed(header, key, source, true);
  std::vector<int64_t> out;
  out.reserve(value.items.size());
  for (const GgufValue& item : value.items) {
    if (!item.is_integer())
      fail(source, key, std::string("expected an array of integers, got one of ") + gguf_value_type_name(item.type));
    if (is_signed(item.type)) {
      out.push_back(item.integer);
    } else {
      if (item.unsigned_integer > static_cast<uint64_t>(INT64_MAX)) fail(source, key, "integer out of range");
      out.push_back(static_cast<int64_t>(item.unsigned_integer));
    }
  }
  return out;
}

std::vector<double> gguf_number_array(const GgufHeader& header, const std::string& key, const std::string& source) {
  const GgufValue& value = typed(header, key, source, true);
  std::vector<double> out;
  out.reserve(value.items.size());
  for (const GgufValue& item : value.items) {
    if (!item.is_float())
      fail(source, key, std::string("expected an array of floats, got one of ") + gguf_value_type_name(item.type));
    out.push_back(item.number);
  }
  return out;
}

GgufFile::GgufFile(const std::string& path) : path_(path), file_(path, "GGUF file") {
  header_ = parse_gguf_header(file_.data(), file_.size(), path);
}

}  // namespace upm
