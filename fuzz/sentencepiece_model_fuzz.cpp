// libFuzzer target: the SentencePiece model reader (a protobuf wire parser
// of our own) must load or refuse any bytes with an InputError, and a model
// that loads must encode and decode. Seed: tests/data/text/tiny_spm.
//
//   cmake --build build-fuzz --target sentencepiece_model_fuzz
//   build-fuzz/bin/sentencepiece_model_fuzz -max_total_time=60 CORPUS_DIR

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "upm/core/error.h"
#include "upm/text/sentencepiece_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto tokenizer = upm::SentencePieceTokenizer::from_bytes(bytes, "fuzz.model");
    auto ids = tokenizer->encode("Hello <s> w\xC3\xB6rld  123 \xF0\x9F\x98\x80 <|im_start|>x \xFF\n", true);
    tokenizer->decode(ids);
    tokenizer->decode(ids, true);
  } catch (const upm::InputError&) {
    // Refusing garbage with a located error is the expected outcome.
  }
  return 0;
}
