#pragma once
// Hugging Face tokenizer.json with a BPE model: byte-level (GPT-2, Qwen2/3,
// Llama 3) or SentencePiece-style (Metaspace, byte fallback: Llama 2,
// Mistral as transformers converts them). Encodes to the ids HF's own
// library gives; a tokenizer.json feature outside these is an InputError
// naming the feature.
//
// Text that is not valid UTF-8 is first repaired as a JS or Rust caller's
// decoder would (see upm/text/utf8.h), so the ids equal HF's for that string.

#include <memory>
#include <string>
#include <string_view>

#include "upm/text/tokenizer.h"

namespace upm {

class BpeTokenizer final : public Tokenizer {
 public:
  // Reads and checks a tokenizer.json file (InputError naming the file).
  static std::unique_ptr<BpeTokenizer> from_file(const std::string& path);
  // Same from JSON text; `source` names it in errors.
  static std::unique_ptr<BpeTokenizer> from_json(std::string_view json_text, const std::string& source);
  ~BpeTokenizer() override;

  std::vector<TokenId> encode(std::string_view text, bool add_special = false) const override;
  // Exact bytes of the tokens (a cut through a multi-byte character stays
  // cut); utf8_lossy() gives HF's lossy string when that matters.
  std::string decode(const std::vector<TokenId>& ids, bool skip_special = false) const override;

  int64_t vocab_size() const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::string id_to_token(TokenId id) const override;
  const SpecialTokens& special_tokens() const override;

  // True for added tokens flagged "special" (what decode skips).
  bool is_special(TokenId id) const;
  // bos/eos/pad/stop come from tokenizer_config.json, not tokenizer.json;
  // load_tokenizer() sets them.
  void set_special_tokens(SpecialTokens tokens);

 private:
  BpeTokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace upm
