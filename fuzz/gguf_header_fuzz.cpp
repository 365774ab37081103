// libFuzzer target: the GGUF header and metadata parser on arbitrary bytes
// (the whole input is taken as a file), then the typed metadata look-ups the
// importer makes. Rejecting input with InputError is the expected outcome;
// any other exception, a crash or a sanitizer report is a bug.
// Seed it with tests/data/model/gguf/ (quant_types.gguf: every metadata value
// type and eleven tensor types; tiny_llama.gguf: a whole model with its vocabulary).
//
//   cmake -S . -B build-fuzz -DUPM_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   cmake --build build-fuzz --target gguf_header_fuzz
//   build-fuzz/bin/gguf_header_fuzz -max_total_time=60 CORPUS_DIR tests/data/model/gguf
#include <cstddef>
#include <cstdint>

#include "upm/core/error.h"
#include "upm/model/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    upm::GgufHeader header = upm::parse_gguf_header(data, size, "fuzz.gguf");
    // Touch every accepted range: an out-of-bounds offset would trip ASan here.
    volatile uint8_t sink = 0;
    for (const auto& tensor : header.tensors) {
      if (tensor.nbytes > 0) {
        sink ^= data[header.data_start + tensor.offset];
        sink ^= data[header.data_start + tensor.offset + tensor.nbytes - 1];
      }
    }
    (void)sink;
    for (const auto& [key, value] : header.metadata) {
      try {
        if (value.type == upm::GgufValueType::kArray) {
          if (value.element_type == upm::GgufValueType::kString)
            upm::gguf_string_array(header, key, "fuzz.gguf");
          else
            upm::gguf_integer_array(header, key, "fuzz.gguf");
        } else {
          upm::gguf_number(header, key, "fuzz.gguf");
        }
      } catch (const upm::InputError&) {}
    }
  } catch (const upm::InputError&) {}
  return 0;
}
