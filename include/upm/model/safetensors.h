#pragma once
// The safetensors file format (https://github.com/huggingface/safetensors):
//   [u64 little-endian N][N bytes of JSON header][data buffer]
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]}
// (offsets relative to the data buffer) plus an optional "__metadata__" map of
// strings. The header is untrusted input: every bound is checked before use.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/model/mapped_file.h"

namespace upm {

struct SafetensorsEntry {
  std::string dtype;  // "F32", "BF16", "I64", ... as in the file
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data buffer
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
};

struct SafetensorsHeader {
  std::map<std::string, SafetensorsEntry> tensors;
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // file offset of the data buffer (8 + N)
};

// Largest header accepted (the format's own reference limit is 100 MB).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100u << 20;

// Validates and parses the header of a whole file held in `bytes[0..size)`.
// Any inconsistency (short file, header length out of range, bad JSON, unknown
// dtype, negative or overflowing shape, size not matching dtype x shape,
// offsets out of the buffer or overlapping) is an InputError naming `source`
// and the tensor.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source);

// Bytes per element of a safetensors dtype name; 0 if unknown.
size_t safetensors_dtype_size(const std::string& dtype);
// Torch dtype of a safetensors dtype name (InputError for those torch lacks).
torch::ScalarType safetensors_dtype_to_torch(const std::string& dtype, const std::string& where);
std::string torch_dtype_to_safetensors(torch::ScalarType dtype);

// A safetensors file mapped read-only into memory; tensors are views of the
// mapping, so opening costs no copy and no heap.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }
  bool contains(const std::string& name) const { return header_.tensors.count(name) > 0; }
  // InputError naming the file if absent.
  const SafetensorsEntry& entry(const std::string& name) const;
  // Raw bytes of a tensor inside the mapping.
  const uint8_t* data(const SafetensorsEntry& entry) const { return file_.data() + header_.data_start + entry.begin; }
  // A CPU tensor over the mapped bytes (zero-copy; READ-ONLY: never write to
  // it). Copied instead when the bytes are not aligned for the dtype.
  torch::Tensor tensor(const std::string& name) const;

 private:
  std::string path_;
  MappedFile file_;
  SafetensorsHeader header_;
};

// Writes `tensors` (any device, any layout; stored contiguous, in their own
// dtype) as one safetensors file, atomically. Names must be unique.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace upm
