#include "bpe_model.h"

#include <algorithm>
#include <queue>

#include "byte_level.h"
#include "upm/text/utf8.h"

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
  bool operator>(const Candidate& other) const { return rank != other.rank ? rank > other.rank : pos > other.pos; }
};

}  // namespace

BpeModel::BpeModel(std::unordered_map<std::string, TokenId> vocab, const std::vector<Merge>& merges,
                   std::optional<TokenId> unk, Options options)
    : vocab_(std::move(vocab)), byte_ids_(256, -1), fallback_ids_(256, -1), unk_(unk), options_(options) {
  const auto& alphabet = ByteLevelAlphabet::get();
  static const char kHex[] = "0123456789ABCDEF";
  for (int byte = 0; byte < 256; ++byte) {
    auto it = vocab_.find(alphabet.char_for(static_cast<unsigned char>(byte)));
    if (it != vocab_.end()) byte_ids_[byte] = it->second;
    // HF spells a fallback byte format!("<{:#04X}>"): "<0x" then two upper-case digits.
    std::string name = std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">";
    auto fallback = vocab_.find(name);
    if (fallback != vocab_.end()) fallback_ids_[byte] = fallback->second;
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

void BpeModel::byte_symbols(std::string_view piece, std::vector<TokenId>& ids) const {
  for (unsigned char byte : piece) {
    TokenId id = byte_ids_[byte];
    if (id >= 0)
      ids.push_back(id);
    else if (unk_)
      ids.push_back(*unk_);  // without an unk HF drops a character it cannot represent
  }
}

// HF's BPE::merge_word for a model without byte-level spelling: look each
// character up; a missing one takes its bytes' <0xXX> tokens when all
// exist, else becomes unk (runs of them one unk with fuse_unk).
void BpeModel::character_symbols(std::string_view piece, std::vector<TokenId>& ids) const {
  bool pending_unk = false;
  std::string character;
  for (std::size_t pos = 0; pos < piece.size();) {
    std::size_t start = pos;
    next_code_point(piece, pos);
    character.assign(piece.substr(start, pos - start));
    auto it = vocab_.find(character);
    if (it != vocab_.end()) {
      if (pending_unk) ids.push_back(*unk_);
      pending_unk = false;
      ids.push_back(it->second);
      continue;
    }
    if (options_.byte_fallback && std::all_of(character.begin(), character.end(), [&](char byte) {
          return fallback_ids_[static_cast<unsigned char>(byte)] >= 0;
        })) {
      // HF leaves a pending unk pending here: it lands after these bytes.
      for (unsigned char byte : character) ids.push_back(fallback_ids_[byte]);
      continue;
    }
    if (!unk_) continue;
    if (pending_unk && !options_.fuse_unk) ids.push_back(*unk_);
    pending_unk = true;
  }
  if (pending_unk) ids.push_back(*unk_);
}

void BpeModel::merge_word(std::string_view piece, std::vector<TokenId>& out) const {
  if (options_.ignore_merges) {
    // Llama 3: a pre-token that is itself in the vocabulary is one token.
    auto it = vocab_.find(options_.byte_level ? ByteLevelAlphabet::get().encode(piece) : std::string(piece));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  thread_local std::vector<TokenId> ids;  // reused: most words miss the cache only once
  ids.clear();
  if (options_.byte_level)
    byte_symbols(piece, ids);
  else
    character_symbols(piece, ids);
  if (ids.empty()) return;
  std::vector<Symbol> symbols;
  symbols.reserve(ids.size());
  for (TokenId id : ids) {
    int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, true});
  }
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
