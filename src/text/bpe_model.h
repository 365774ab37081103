#pragma once
// The BPE model of a byte-level tokenizer.json: vocabulary, merges by rank,
// and the merge loop of HF's `Word::merge_all` (always apply the existing
// adjacent pair with the lowest rank, leftmost first), with a per-pre-token
// cache because natural text repeats its words.

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
  // `vocab`: byte-level token string -> id. `merges` in rank order.
  // `unk`: id used for a byte whose character is missing from the vocab
  // (without one such bytes are dropped, as HF does).
  BpeModel(std::unordered_map<std::string, TokenId> vocab, const std::vector<Merge>& merges,
           std::optional<TokenId> unk, bool ignore_merges);

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

  std::unordered_map<std::string, TokenId> vocab_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::vector<TokenId> byte_ids_;  // byte -> id of its one-character token, -1 if none
  std::optional<TokenId> unk_;
  bool ignore_merges_;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache_;
};

}  // namespace upm::text
