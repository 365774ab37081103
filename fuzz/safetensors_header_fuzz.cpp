// libFuzzer target: the safetensors header parser on arbitrary bytes (the
// whole input is taken as a file). Rejecting input with InputError is the
// expected outcome; any other exception, a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>

#include "upm/core/error.h"
#include "upm/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    upm::SafetensorsHeader header = upm::parse_safetensors_header(data, size, "fuzz");
    // Touch every accepted range: an out-of-bounds offset would trip ASan here.
    volatile uint8_t sink = 0;
    for (const auto& [name, entry] : header.tensors) {
      if (entry.nbytes() > 0) {
        sink ^= data[header.data_start + entry.begin];
        sink ^= data[header.data_start + entry.end - 1];
      }
    }
    (void)sink;
  } catch (const upm::InputError&) {}
  return 0;
}
