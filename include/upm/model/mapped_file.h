#pragma once
// A regular file mapped read-only into memory for its owner's lifetime: the
// weights files (safetensors, GGUF) are read in place, with no copy.

#include <cstddef>
#include <cstdint>
#include <string>

namespace upm {

class MappedFile {
 public:
  // InputError naming `path` if it cannot be opened, is not a regular file or
  // cannot be mapped; `kind` ("GGUF file", ...) names what was expected.
  MappedFile(const std::string& path, const std::string& kind);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return base_; }  // null for an empty file
  size_t size() const { return size_; }

 private:
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace upm
