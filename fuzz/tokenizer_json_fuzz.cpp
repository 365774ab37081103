// libFuzzer target: a tokenizer.json parser must load or refuse any bytes
// with an InputError, and a tokenizer that loads must encode and decode.
// Seed it with tests/data/text/tiny_bpe/tokenizer.json and tiny_gpt2/.
//
//   build with -DUPM_BUILD_FUZZ=ON (clang), then:
//   build/bin/upm-fuzz-tokenizer_json -max_total_time=60 tests/data/text/tiny_bpe

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "upm/core/error.h"
#include "upm/text/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto tokenizer = upm::BpeTokenizer::from_json(text, "fuzz.json");
    auto ids = tokenizer->encode("Hello <|im_end|> w\xC3\xB6rld 123 \xF0\x9F\x98\x80 \xFF  \n\n", true);
    tokenizer->decode(ids);
    tokenizer->decode(ids, true);
  } catch (const upm::InputError&) {
    // Refusing garbage with a located error is the expected outcome.
  }
  return 0;
}
