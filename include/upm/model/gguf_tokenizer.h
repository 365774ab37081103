#pragma once
// Hugging Face tokenizer files from a GGUF vocabulary (tokenizer.ggml.*).
// A "gpt2" vocabulary (byte-level BPE: tokens already spelled in GPT-2's
// byte alphabet, merges "left right") becomes tokenizer.json with the
// pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre`; tokens typed
// CONTROL (3) become special added tokens, USER_DEFINED (4) plain added
// tokens, as llama.cpp and transformers treat them.
// A "llama" vocabulary (SentencePiece BPE: tokens, scores and types, no
// merges; Llama 1/2, Mistral, TinyLlama) becomes the tokenizer.json
// transformers builds from it: merges recovered from the scores, a
// Metaspace pre-tokenizer, <0xXX> byte fallback, and a BOS added unless the
// file says otherwise.

#include <string>

#include <nlohmann/json.hpp>

#include "upm/model/gguf_file.h"

namespace upm {

struct GgufTokenizerFiles {
  nlohmann::json tokenizer;          // tokenizer.json
  nlohmann::json tokenizer_config;   // tokenizer_config.json (special tokens, chat_template)
  nlohmann::json generation_config;  // generation_config.json (bos/eos/pad ids)
};

// InputError naming `source` and the key for a missing or malformed
// vocabulary, a vocabulary other than "gpt2" and "llama", merges that name
// no token, scores that do not match the tokens, or special ids out of range.
GgufTokenizerFiles tokenizer_files_from_gguf(const GgufHeader& header, const std::string& source,
                                             int64_t model_max_length);

}  // namespace upm
