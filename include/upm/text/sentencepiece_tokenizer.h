#pragma once
// SentencePiece (tokenizer.model), BPE models: the ids are those of
// `spm_encode` on the same model. Implemented natively (see
// src/text/sentencepiece_model.h for why libsentencepiece cannot be used in
// a process that also holds LibTorch). Control pieces written in the
// text (<s>, </s>) are cut out first and become single tokens; user-defined
// pieces (chat markers given at training) are matched by SentencePiece itself.

#include <memory>
#include <string>

#include "upm/text/tokenizer.h"

namespace upm {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // InputError naming `path` when it is not a readable SentencePiece model.
  static std::unique_ptr<SentencePieceTokenizer> from_file(const std::string& path);
  ~SentencePieceTokenizer() override;

  // `add_special` prepends the bos (as HF's Llama SentencePiece tokenizers do).
  std::vector<TokenId> encode(std::string_view text, bool add_special = false) const override;
  std::string decode(const std::vector<TokenId>& ids, bool skip_special = false) const override;

  int64_t vocab_size() const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::string id_to_token(TokenId id) const override;
  const SpecialTokens& special_tokens() const override;
  void set_special_tokens(SpecialTokens tokens);

 private:
  SentencePieceTokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace upm
