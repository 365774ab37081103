// SentencePiece BPE encoding as libsentencepiece does it (normalizer.cc,
// bpe_model.cc, sentencepiece_processor.cc), on a model read by
// sentencepiece_model.cpp; the ids are checked against `spm_encode`.

#include "upm/text/sentencepiece_tokenizer.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <queue>
#include <sstream>
#include <unordered_map>

#include "added_tokens.h"
#include "sentencepiece_model.h"
#include "upm/core/error.h"
#include "upm/text/utf8.h"

namespace upm {

namespace {

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// Byte length of the UTF-8 character led by `lead` (SentencePiece's OneCharLen).
std::size_t one_char_len(unsigned char lead) {
  static const std::size_t lengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lengths[lead >> 4];
}

// The byte of a byte-fallback piece "<0xNN>" (two hex digits, as
// SentencePiece writes them); -1 for any other text.
int byte_of_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int high = hex(piece[3]), low = hex(piece[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

// Longest user-defined piece starting at a position (SentencePiece's PrefixMatcher).
class PrefixMatcher {
 public:
  void add(const std::string& piece) {
    if (piece.empty()) return;
    auto& list = by_first_byte_[static_cast<unsigned char>(piece[0])];
    list.push_back(piece);
    std::sort(list.begin(), list.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
  // Length of the match at text[pos], 0 if none.
  std::size_t match(std::string_view text, std::size_t pos) const {
    for (const auto& piece : by_first_byte_[static_cast<unsigned char>(text[pos])])
      if (text.compare(pos, piece.size(), piece) == 0) return piece.size();
    return 0;
  }

 private:
  std::array<std::vector<std::string>, 256> by_first_byte_;
};

}  // namespace

struct SentencePieceTokenizer::Impl {
  text::SentencePieceModel model;
  std::unordered_map<std::string, TokenId> pieces;    // normal, user-defined, unused
  std::unordered_map<std::string, TokenId> reserved;  // control, unknown, byte
  PrefixMatcher user_defined;
  text::AddedTokenMatcher controls;  // <s>, </s>, ... written in the text
  TokenId unk_id = -1;
  std::array<TokenId, 256> byte_ids{};
  SpecialTokens special_tokens;

  TokenId piece_to_id(std::string_view piece) const;
  bool is_unused(TokenId id) const { return model.pieces[id].type == text::SentencePieceModel::kUnused; }
  std::string normalize(std::string_view text) const;
  std::vector<std::string_view> bpe(std::string_view normalized) const;
  void encode_segment(std::string_view text, std::vector<TokenId>& ids) const;
};

TokenId SentencePieceTokenizer::Impl::piece_to_id(std::string_view piece) const {
  std::string key(piece);
  if (auto it = reserved.find(key); it != reserved.end()) return it->second;
  if (auto it = pieces.find(key); it != pieces.end()) return it->second;
  return unk_id;
}

std::string SentencePieceTokenizer::Impl::normalize(std::string_view text) const {
  std::string out;
  std::size_t pos = 0;
  const bool remove_extra = model.remove_extra_whitespaces;
  if (remove_extra)
    while (pos < text.size() && text[pos] == ' ' && user_defined.match(text, pos) == 0) ++pos;
  if (pos == text.size()) return out;
  auto add_ws = [&] { out += model.escape_whitespaces ? kSpaceSymbol : " "; };
  if (!model.treat_whitespace_as_suffix && model.add_dummy_prefix) add_ws();
  bool is_prev_space = remove_extra;
  while (pos < text.size()) {
    std::size_t length = user_defined.match(text, pos);
    if (length == 0) length = std::min(text.size() - pos, one_char_len(static_cast<unsigned char>(text[pos])));
    std::string_view piece = text.substr(pos, length);
    while (is_prev_space && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
    if (!piece.empty()) {
      for (char c : piece) {
        if (model.escape_whitespaces && c == ' ') {
          out += kSpaceSymbol;
        } else {
          out += c;
        }
      }
      is_prev_space = piece.back() == ' ';
    }
    pos += length;
    if (!remove_extra) is_prev_space = false;
  }
  if (remove_extra) {
    const std::string space = model.escape_whitespaces ? kSpaceSymbol : " ";
    while (out.size() >= space.size() && out.compare(out.size() - space.size(), space.size(), space) == 0)
      out.resize(out.size() - space.size());
  }
  if (model.treat_whitespace_as_suffix && model.add_dummy_prefix) add_ws();
  return out;
}

std::vector<std::string_view> SentencePieceTokenizer::Impl::bpe(std::string_view normalized) const {
  struct Symbol {
    int prev, next;
    bool freeze;
    std::string_view piece;
  };
  struct Pair {
    float score;
    int left, right;
    std::size_t size;
  };
  // Highest score first; among equals the leftmost.
  auto worse = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
  std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> reverse_merges;
  std::vector<Symbol> symbols;

  for (std::size_t pos = 0; pos < normalized.size();) {
    std::size_t length = user_defined.match(normalized, pos);
    bool freeze = length > 0;
    if (!freeze) length = std::min(normalized.size() - pos, one_char_len(static_cast<unsigned char>(normalized[pos])));
    int index = static_cast<int>(symbols.size());
    symbols.push_back(
        {index - 1, pos + length < normalized.size() ? index + 1 : -1, freeze, normalized.substr(pos, length)});
    pos += length;
  }
  auto maybe_add = [&](int left, int right) {
    if (left < 0 || right < 0 || symbols[left].freeze || symbols[right].freeze) return;
    std::string_view merged(symbols[left].piece.data(), symbols[left].piece.size() + symbols[right].piece.size());
    auto it = pieces.find(std::string(merged));
    if (it == pieces.end()) return;
    agenda.push({model.pieces[it->second].score, left, right, merged.size()});
    if (is_unused(it->second)) reverse_merges[merged] = {symbols[left].piece, symbols[right].piece};
  };
  for (std::size_t i = 1; i < symbols.size(); ++i) maybe_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!agenda.empty()) {
    Pair top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.piece.empty() || right.piece.empty() || left.piece.size() + right.piece.size() != top.size) continue;
    left.piece = std::string_view(left.piece.data(), left.piece.size() + right.piece.size());
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.piece = std::string_view();
    maybe_add(left.prev, top.left);
    maybe_add(top.left, left.next);
  }

  // Unused pieces may take part in merges but are split back into their parts.
  std::vector<std::string_view> out;
  std::function<void(std::string_view)> resegment = [&](std::string_view piece) {
    TokenId id = piece_to_id(piece);
    auto it = reverse_merges.find(piece);
    if (id < 0 || !is_unused(id) || it == reverse_merges.end()) {
      out.push_back(piece);
      return;
    }
    resegment(it->second.first);
    resegment(it->second.second);
  };
  if (!symbols.empty())
    for (int index = 0; index != -1; index = symbols[index].next) resegment(symbols[index].piece);
  return out;
}

void SentencePieceTokenizer::Impl::encode_segment(std::string_view text, std::vector<TokenId>& ids) const {
  std::string normalized = normalize(text);
  bool previous_unknown = false;
  for (std::string_view piece : bpe(normalized)) {
    TokenId id = piece_to_id(piece);
    bool unknown = id == unk_id;
    if (unknown && model.byte_fallback) {
      for (unsigned char byte : piece) ids.push_back(byte_ids[byte]);
    } else if (!(unknown && previous_unknown)) {
      ids.push_back(id);  // a run of unknown characters is one <unk>
    }
    previous_unknown = unknown;
  }
}

SentencePieceTokenizer::SentencePieceTokenizer() : impl_(std::make_unique<Impl>()) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(Location{path, 0, ""}, "cannot open SentencePiece model");
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return from_bytes(bytes.str(), path);
}

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_bytes(std::string_view bytes,
                                                                           const std::string& path) {
  std::unique_ptr<SentencePieceTokenizer> tokenizer(new SentencePieceTokenizer());
  Impl& impl = *tokenizer->impl_;
  impl.model = text::parse_sentencepiece_model(bytes, path);
  impl.byte_ids.fill(-1);
  std::vector<text::AddedToken> controls;
  using Model = text::SentencePieceModel;
  for (TokenId id = 0; id < static_cast<TokenId>(impl.model.pieces.size()); ++id) {
    const auto& piece = impl.model.pieces[id];
    bool ordinary = piece.type == Model::kNormal || piece.type == Model::kUserDefined || piece.type == Model::kUnused;
    auto& table = ordinary ? impl.pieces : impl.reserved;
    if (!table.emplace(piece.text, id).second)
      throw InputError(Location{path, 0, "pieces"}, "piece '" + piece.text + "' appears twice");
    if (piece.type == Model::kUserDefined) impl.user_defined.add(piece.text);
    if (piece.type == Model::kUnknown) impl.unk_id = id;
    if (piece.type == Model::kControl && !piece.text.empty()) controls.push_back({piece.text, id, true});
    if (piece.type == Model::kByte) {
      int byte = byte_of_piece(piece.text);
      if (byte < 0) throw InputError(Location{path, 0, "pieces"}, "byte piece '" + piece.text + "' is not <0xNN>");
      impl.byte_ids[byte] = id;
    }
  }
  if (impl.unk_id < 0) throw InputError(Location{path, 0, "pieces"}, "no unknown piece");
  if (impl.model.byte_fallback)
    for (TokenId id : impl.byte_ids)
      if (id < 0) throw InputError(Location{path, 0, "pieces"}, "byte_fallback without all 256 byte pieces");
  impl.controls = text::AddedTokenMatcher(std::move(controls));

  SpecialTokens& special = impl.special_tokens;
  auto control_id = [&](const std::string& piece) -> std::optional<TokenId> {
    auto it = impl.reserved.find(piece);
    if (it == impl.reserved.end() || impl.model.pieces[it->second].type != Model::kControl) return std::nullopt;
    return it->second;
  };
  special.bos = control_id(impl.model.bos_piece);
  special.eos = control_id(impl.model.eos_piece);
  special.pad = control_id(impl.model.pad_piece);
  if (special.eos) special.stop.push_back(*special.eos);
  return tokenizer;
}

std::vector<TokenId> SentencePieceTokenizer::encode(std::string_view input, bool add_special) const {
  std::string repaired;
  input = text::repaired_utf8(input, repaired);
  std::vector<TokenId> ids;
  if (add_special && impl_->special_tokens.bos) ids.push_back(*impl_->special_tokens.bos);
  std::vector<text::TextSegment> segments;
  impl_->controls.split(input, segments);
  for (const auto& segment : segments) {
    if (segment.token >= 0) {
      ids.push_back(segment.token);
    } else {
      impl_->encode_segment(segment.text, ids);
    }
  }
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special) const {
  using Model = text::SentencePieceModel;
  const auto& model = impl_->model;
  std::string out;
  bool text_written = false;  // SentencePiece's own text (control pieces not counted)
  bool expect_bos_space = model.add_dummy_prefix || model.remove_extra_whitespaces;
  for (TokenId id : ids) {
    if (id < 0 || id >= static_cast<TokenId>(model.pieces.size())) continue;  // unknown ids are skipped
    const auto& piece = model.pieces[id];
    if (piece.type == Model::kControl) {
      if (!skip_special) out += piece.text;
      continue;
    }
    if (piece.type == Model::kByte) {
      out.push_back(static_cast<char>(byte_of_piece(piece.text)));  // exact bytes, like the BPE backend
      text_written = true;
      continue;
    }
    if (piece.type == Model::kUnknown) {
      out += model.unk_surface;
      text_written = true;
      continue;
    }
    std::string_view surface = piece.text;
    // The dummy prefix: the first piece's leading space was added by encode.
    if (expect_bos_space && !text_written && !model.treat_whitespace_as_suffix &&
        surface.compare(0, kSpaceSymbol.size(), kSpaceSymbol) == 0)
      surface.remove_prefix(kSpaceSymbol.size());
    for (std::size_t pos = 0; pos < surface.size();) {
      if (surface.compare(pos, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
        out += ' ';
        pos += kSpaceSymbol.size();
      } else {
        out += surface[pos++];
      }
    }
    text_written = true;
  }
  return out;
}

int64_t SentencePieceTokenizer::vocab_size() const { return static_cast<int64_t>(impl_->model.pieces.size()); }

std::optional<TokenId> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  std::string key(token);
  if (auto it = impl_->reserved.find(key); it != impl_->reserved.end()) return it->second;
  if (auto it = impl_->pieces.find(key); it != impl_->pieces.end()) return it->second;
  return std::nullopt;
}

std::string SentencePieceTokenizer::id_to_token(TokenId id) const {
  if (id < 0 || id >= static_cast<TokenId>(impl_->model.pieces.size())) return std::string();
  return impl_->model.pieces[id].text;
}

const SpecialTokens& SentencePieceTokenizer::special_tokens() const { return impl_->special_tokens; }

void SentencePieceTokenizer::set_special_tokens(SpecialTokens tokens) { impl_->special_tokens = std::move(tokens); }

}  // namespace upm
