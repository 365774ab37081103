#include "bpe_model.h"

#include <queue>

#include "byte_level.h"

namespace upm::text {
namespace {

// Pieces longer than this are rare (long whitespace runs, minified data) and
// would only crowd the cache.
constexpr std::size_t kMaxCachedPiece = 64;
constexpr std::size_t kMaxCacheEntries = 200000;

struct Symbol {
  TokenId id;
  int prev, next;  // neighbours in the current word, -1 at the ends
  bool alive;
};

struct Candidate {
  uint32_t rank;
  int pos;  // index of the left symbol
  TokenId merged;
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

}  // namespace

BpeModel::BpeModel(std::unordered_map<std::string, TokenId> vocab, const std::vector<Merge>& merges,
                   std::optional<TokenId> unk, bool ignore_merges)
    : vocab_(std::move(vocab)), byte_ids_(256, -1), unk_(unk), ignore_merges_(ignore_merges) {
  const auto& alphabet = ByteLevelAlphabet::get();
  for (int byte = 0; byte < 256; ++byte) {
    auto it = vocab_.find(alphabet.char_for(static_cast<unsigned char>(byte)));
    if (it != vocab_.end()) byte_ids_[byte] = it->second;
  }
  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    // A pair listed twice keeps its last rank: HF collects the merges into
    // a map, where a later entry overwrites an earlier one.
    merges_[pair_key(merges[rank].left, merges[rank].right)] =
        MergeResult{static_cast<uint32_t>(rank), merges[rank].merged};
  }
}

void BpeModel::tokenize(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  if (piece.size() > kMaxCachedPiece) {
    merge_word(piece, out);
    return;
  }
  std::string key(piece);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::size_t first = out.size();
  merge_word(piece, out);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(std::move(key), std::vector<TokenId>(out.begin() + first, out.end()));
}

void BpeModel::merge_word(std::string_view piece, std::vector<TokenId>& out) const {
  if (ignore_merges_) {
    // Llama 3: a pre-token that is itself in the vocabulary is one token.
    auto it = vocab_.find(ByteLevelAlphabet::get().encode(piece));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  for (unsigned char byte : piece) {
    TokenId id = byte_ids_[byte];
    if (id < 0) {
      if (!unk_) continue;  // HF drops a character it cannot represent
      id = *unk_;
    }
    int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, true});
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push_pair = [&](int left) {
    int right = symbols[left].next;
    if (right < 0) return;
    auto it = merges_.find(pair_key(symbols[left].id, symbols[right].id));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.merged});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) push_pair(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // Stale entry: the pair at this position changed since it was queued.
    auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.rank != top.rank) continue;
    left.id = it->second.merged;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace upm::text
