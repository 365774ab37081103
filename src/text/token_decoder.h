#pragma once
// tokenizer.json's decoder chain (HF `decoders`): each step maps the list of
// token strings to a new list, and the result is their concatenation.

#include <string>
#include <vector>

#include "tokenizer_json.h"

namespace upm::text {

// Text of `tokens` (already the id -> token strings) through `steps`.
// ByteFallback keeps the exact bytes of a run of <0xXX> tokens that is not
// valid UTF-8 (HF writes one U+FFFD per byte there), as byte-level decoding
// does, so that a character cut between two pieces of a stream survives.
// Every occurrence of the non-empty `pattern` in `token` replaced by `content`
// (the Replace steps of normalizers and decoders).
void replace_all(std::string& token, const std::string& pattern, const std::string& content);

std::string decode_tokens(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens);

}  // namespace upm::text
