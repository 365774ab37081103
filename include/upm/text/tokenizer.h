#pragma once
// The one tokenizer interface every layer uses. Backends: SentencePiece
// (tokenizer.model) and Hugging Face BPE (tokenizer.json); a model
// folder picks its backend by which file it holds.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace upm {

using TokenId = int32_t;

struct SpecialTokens {
  std::optional<TokenId> bos;
  std::optional<TokenId> eos;
  std::optional<TokenId> pad;
  // Every id that ends a generation (eos plus chat end markers such as <|im_end|>).
  std::vector<TokenId> stop;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Text -> ids. Special tokens written in the text ("<|im_start|>") are
  // recognised as single tokens. `add_special` adds what the tokenizer's
  // config adds around a sequence (e.g. a BOS for Llama).
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special = false) const = 0;
  // Ids -> text; bytes are reassembled exactly. `skip_special` drops special tokens.
  virtual std::string decode(const std::vector<TokenId>& ids, bool skip_special = false) const = 0;

  virtual int64_t vocab_size() const = 0;
  virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;
  virtual std::string id_to_token(TokenId id) const = 0;
  virtual const SpecialTokens& special_tokens() const = 0;

  // Number of tokens `text` encodes to (no specials added).
  std::size_t count_tokens(std::string_view text) const { return encode(text, false).size(); }
};

// Loads a tokenizer from a file (tokenizer.json / *.model) or a model folder.
// InputError naming the path when nothing usable is there.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace upm
