#pragma once
// The BPE model of a tokenizer.json: vocabulary, merges by rank, and the
// merge loop of HF's `Word::merge_all` (always apply the existing adjacent
// pair with the lowest rank, leftmost first), with a per-pre-token cache
// because natural text repeats its words. A word starts as one symbol per
// byte (byte-level: each byte's alphabet character) or per character
// (SentencePiece-style, with HF's byte fallback and unk fusing).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "upm/text/tokenizer.h"

namespace upm::text {

class BpeModel {
 public:
  struct Merge {
    TokenId left, right, merged;
  };
  struct Options {
    bool byte_level = true;      // symbols are bytes spelled in GPT-2's alphabet, else characters
    bool ignore_merges = false;  // a piece in the vocabulary is one token (Llama 3)
    bool byte_fallback = false;  // a character missing from the vocab becomes its <0xXX> tokens
    bool fuse_unk = false;       // consecutive unknown characters make one unk
  };
  // `vocab`: token string -> id. `merges` in rank order. `unk`: id used for
  // a symbol missing from the vocab (without one it is dropped, as HF does).
  BpeModel(std::unordered_map<std::string, TokenId> vocab, const std::vector<Merge>& merges, std::optional<TokenId> unk,
           Options options);

  // Ids of one pre-token given as raw bytes.
  void tokenize(std::string_view piece, std::vector<TokenId>& out) const;

  const std::unordered_map<std::string, TokenId>& vocab() const { return vocab_; }

 private:
  struct MergeResult {
    uint32_t rank;
    TokenId merged;
  };
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  void merge_word(std::string_view piece, std::vector<TokenId>& out) const;
  // First symbols of a word: one per byte, or per character.
  void byte_symbols(std::string_view piece, std::vector<TokenId>& ids) const;
  void character_symbols(std::string_view piece, std::vector<TokenId>& ids) const;

  std::unordered_map<std::string, TokenId> vocab_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::vector<TokenId> byte_ids_;      // byte -> id of its alphabet character's token, -1 if none
  std::vector<TokenId> fallback_ids_;  // byte -> id of "<0xXX>", -1 if none
  std::optional<TokenId> unk_;
  Options options_;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache_;
};

}  // namespace upm::text
