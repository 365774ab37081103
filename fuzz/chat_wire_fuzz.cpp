// libFuzzer target: any bytes as a chat-completions request body and as a
// response body. JSON that parses must be accepted or refused with an
// InputError naming the field; accepted documents must serialise again.
//
//   cmake -S . -B build-fuzz -DUPM_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   cmake --build build-fuzz --target chat_wire_fuzz
//   build-fuzz/bin/chat_wire_fuzz -max_total_time=60 -max_len=4096 CORPUS_DIR

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "upm/core/error.h"
#include "upm/openai/chat_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return 0;  // the server answers 400 "not valid JSON" before the wire code runs
  const auto replace = nlohmann::json::error_handler_t::replace;
  try {
    upm::openai::to_json(upm::openai::chat_request_from_json(doc, "request body")).dump(-1, ' ', false, replace);
  } catch (const upm::InputError&) {}
  try {
    auto response = upm::openai::chat_response_from_json(doc, "response");
    upm::openai::to_json(response).dump();  // must be valid UTF-8 without a handler
    for (const auto& choice : response.choices) upm::openai::top_logprob(choice, 0, "A");
  } catch (const upm::InputError&) {}
  return 0;
}
