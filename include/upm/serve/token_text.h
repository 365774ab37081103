#pragma once
// The text of one token as the OpenAI `logprobs` answer shows it ("token"):
// what the token adds to the decoded text, leading space included. A judge
// matches these strings ("A" vs " A"), so they must not depend on the token
// standing first.

#include <cstdint>
#include <string>

namespace upm {
class Tokenizer;
}

namespace upm::serve {

// Byte-level BPE: the token's bytes (possibly part of a UTF-8 character).
// SentencePiece: the piece with its word-start marker as a space, which a
// lone decode drops as the sentence's dummy prefix. Special tokens as written.
std::string token_text(const Tokenizer& tokenizer, int64_t id);

}  // namespace upm::serve
