#pragma once
// JSONL <-> ids for `upm-infer tokenize` / `detokenize`. Each record keeps
// its other fields; "text" becomes "ids" and back. A bad record is an
// InputError naming file:line and field; the output appears only when the
// whole input converted (written atomically).

#include <cstddef>
#include <string>

#include "upm/text/tokenizer.h"

namespace upm {

struct TokenizeFileOptions {
  bool add_special = false;   // tokenize: what the tokenizer adds around a sequence (e.g. bos)
  bool skip_special = false;  // detokenize: drop special tokens
};

// {"text": ...} -> {"ids": [...]}; returns the number of records.
std::size_t tokenize_jsonl(const Tokenizer& tokenizer, const std::string& input, const std::string& output,
                           const TokenizeFileOptions& options = {});

// {"ids": [...]} -> {"text": ...}. A cut multi-byte character at the end of
// the ids becomes U+FFFD (JSON text must be UTF-8). Ids outside the
// vocabulary are an error.
std::size_t detokenize_jsonl(const Tokenizer& tokenizer, const std::string& input, const std::string& output,
                             const TokenizeFileOptions& options = {});

}  // namespace upm
