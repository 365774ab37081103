#pragma once
// The GGUF file format (llama.cpp's ggml/docs/gguf.md), versions 2 and 3:
//   u32 magic "GGUF", u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x (string key, u32 value type, value),
//   tensor_count x (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset),
//   padding to `general.alignment` (default 32), then the tensor data.
// Strings are u64 length + UTF-8 bytes; arrays are u32 element type + u64
// count + elements. Everything is little-endian. dims are in ggml order
// (dims[0] is the contiguous one), the reverse of a PyTorch shape.
// The header is untrusted input: every length and offset is checked.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "upm/model/gguf_types.h"
#include "upm/model/mapped_file.h"

namespace upm {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

const char* gguf_value_type_name(GgufValueType type);

// One metadata value. Integers are kept in `integer` (signed types) or
// `unsigned_integer`, floats in `number`; an array holds its items.
struct GgufValue {
  GgufValueType type = GgufValueType::kUint32;
  uint64_t unsigned_integer = 0;
  int64_t integer = 0;
  double number = 0.0;
  bool boolean = false;
  std::string string;
  GgufValueType element_type = GgufValueType::kUint32;  // arrays only
  std::vector<GgufValue> items;                         // arrays only

  bool is_integer() const;
  bool is_float() const { return type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64; }
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] varies fastest
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t nbytes = 0;  // from type and dims

  uint64_t element_count() const;
  // The PyTorch shape: dims reversed.
  std::vector<int64_t> shape() const;
};

struct GgufHeader {
  uint32_t version = 0;
  std::map<std::string, GgufValue> metadata;
  std::vector<GgufTensorInfo> tensors;  // in file order
  uint64_t alignment = 32;
  uint64_t data_start = 0;  // file offset of the data section

  const GgufValue* find(const std::string& key) const;
  const GgufTensorInfo* find_tensor(const std::string& name) const;
};

// Validates and parses a whole GGUF file held in `bytes[0..size)`: magic and
// version, every string, array and tensor record inside the file, known value
// and tensor types, at most 4 dims with no zero and no overflow, rows a whole
// number of quantization blocks, data offsets aligned, inside the file and not
// overlapping. Any problem is an InputError naming `source` and the key or
// tensor.
GgufHeader parse_gguf_header(const uint8_t* bytes, size_t size, const std::string& source);

// Typed metadata look-ups: InputError naming `source` and the key when the
// key is missing (for required_*) or holds another type.
std::optional<uint64_t> gguf_unsigned(const GgufHeader& header, const std::string& key, const std::string& source);
std::optional<double> gguf_number(const GgufHeader& header, const std::string& key, const std::string& source);
std::optional<std::string> gguf_string(const GgufHeader& header, const std::string& key, const std::string& source);
std::optional<bool> gguf_bool(const GgufHeader& header, const std::string& key, const std::string& source);
uint64_t gguf_required_unsigned(const GgufHeader& header, const std::string& key, const std::string& source);
std::string gguf_required_string(const GgufHeader& header, const std::string& key, const std::string& source);
// An array of strings or of integers (as int64).
std::vector<std::string> gguf_string_array(const GgufHeader& header, const std::string& key, const std::string& source);
std::vector<int64_t> gguf_integer_array(const GgufHeader& header, const std::string& key, const std::string& source);
std::vector<double> gguf_number_array(const GgufHeader& header, const std::string& key, const std::string& source);

// A GGUF file mapped read-only into memory.
class GgufFile {
 public:
  explicit GgufFile(const std::string& path);
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  const GgufHeader& header() const { return header_; }
  // Raw bytes of a tensor inside the mapping (checked by the parser).
  const uint8_t* data(const GgufTensorInfo& tensor) const { return file_.data() + header_.data_start + tensor.offset; }

 private:
  std::string path_;
  MappedFile file_;
  GgufHeader header_;
};

}  // namespace upm
