#include "upm/text/bpe_tokenizer.h"

#include <deque>
#include <fstream>
#include <sstream>

#include <utf8proc.h>

#include "byte_level.h"
#include "token_decoder.h"
#include "tokenizer_json.h"
#include "upm/core/error.h"
#include "upm/text/utf8.h"

namespace upm {

using text::TextSegment;

struct BpeTokenizer::Impl {
  text::TokenizerJsonSpec spec;
  text::AddedTokenMatcher raw_matcher;         // added tokens matched before normalization
  text::AddedTokenMatcher normalized_matcher;  // ... and after it
  std::unordered_map<std::string, TokenId> added_ids;
  std::vector<bool> special;
  SpecialTokens special_tokens;

  std::string normalize(std::string_view segment) const;
  // `text_start`: the segment begins the text (Metaspace's "first" scheme).
  void pre_tokenize_and_encode(std::string_view segment, bool text_start, std::vector<TokenId>& ids) const;
};

namespace {

// Code points that NFC leaves alone and that never compose with what
// precedes them: everything below U+0300 and the CJK ideograph blocks. Text
// made only of these skips utf8proc (most English, code and Chinese).
bool nfc_inert(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    char32_t cp = text::next_code_point(text, pos);
    bool inert = cp < 0x300 || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF);
    if (!inert) return false;
  }
  return true;
}

std::string nfc(std::string_view text) {
  utf8proc_uint8_t* result = nullptr;
  auto size =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &result, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (size < 0) throw Error(std::string("NFC normalization failed: ") + utf8proc_errmsg(size));
  std::string normalized(reinterpret_cast<char*>(result), static_cast<std::size_t>(size));
  std::free(result);
  return normalized;
}

}  // namespace

std::string BpeTokenizer::Impl::normalize(std::string_view segment) const {
  std::string text(segment);
  for (const auto& step : spec.normalizer) {
    switch (step.kind) {
      case text::NormalizerStep::Kind::kNfc:
        if (!nfc_inert(text)) text = nfc(text);
        break;
      case text::NormalizerStep::Kind::kPrepend:
        if (!text.empty()) text.insert(0, step.content);
        break;
      case text::NormalizerStep::Kind::kReplace: text::replace_all(text, step.pattern, step.content); break;
    }
  }
  return text;
}

namespace {

// HF's Metaspace: every ' ' becomes the replacement, which is also put in
// front (kFirst: only at the start of the text; never twice).
std::string_view metaspace(const text::PreTokenizerStep& step, std::string_view piece, bool text_start,
                           std::deque<std::string>& owned) {
  if (piece.empty()) return piece;  // HF prepends nothing to empty text
  std::string replaced;
  bool prepend = step.prepend == text::PreTokenizerStep::Prepend::kAlways ||
                 (step.prepend == text::PreTokenizerStep::Prepend::kFirst && text_start);
  std::size_t start = 0;
  if (prepend && piece.substr(0, step.replacement.size()) != step.replacement && !(piece.size() && piece[0] == ' '))
    replaced = step.replacement;
  for (std::size_t space = piece.find(' '); space != std::string_view::npos; space = piece.find(' ', start)) {
    replaced.append(piece.substr(start, space - start)).append(step.replacement);
    start = space + 1;
  }
  replaced.append(piece.substr(start));
  owned.push_back(std::move(replaced));
  return owned.back();
}

// Cuts `piece` before every occurrence of `mark` (HF's MergedWithNext).
void split_before(std::string_view piece, const std::string& mark, std::vector<std::string_view>& out) {
  std::size_t start = 0;
  for (std::size_t at = piece.find(mark, 1); at != std::string_view::npos; at = piece.find(mark, at + mark.size())) {
    out.push_back(piece.substr(start, at - start));
    start = at;
  }
  if (start < piece.size()) out.push_back(piece.substr(start));
}

}  // namespace

void BpeTokenizer::Impl::pre_tokenize_and_encode(std::string_view segment, bool text_start,
                                                 std::vector<TokenId>& ids) const {
  std::vector<std::string_view> pieces{segment}, next;
  std::deque<std::string> owned;  // pieces the steps rewrote
  for (const auto& step : spec.pre_tokenizer) {
    next.clear();
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      std::string_view piece = pieces[i];
      if (step.kind == text::PreTokenizerStep::Kind::kMetaspace) {
        piece = metaspace(step, piece, text_start && i == 0, owned);
        if (step.split_at_replacement)
          split_before(piece, step.replacement, next);
        else
          next.push_back(piece);
        continue;
      }
      if (step.kind == text::PreTokenizerStep::Kind::kByteLevel && step.add_prefix_space &&
          (piece.empty() || piece[0] != ' ')) {
        owned.emplace_back(1, ' ');
        owned.back().append(piece);
        piece = owned.back();
      }
      if (step.splitter) {
        step.splitter->split(piece, next, step.drop_matches);
      } else {
        next.push_back(piece);
      }
    }
    pieces.swap(next);
  }
  for (std::string_view piece : pieces) spec.model->tokenize(piece, ids);
}

BpeTokenizer::BpeTokenizer() : impl_(std::make_unique<Impl>()) {}
BpeTokenizer::~BpeTokenizer() = default;

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(Location{path, 0, ""}, "cannot open tokenizer file");
  std::ostringstream contents;
  contents << file.rdbuf();
  return from_json(contents.str(), path);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json(std::string_view json_text, const std::string& source) {
  std::unique_ptr<BpeTokenizer> tokenizer(new BpeTokenizer());
  Impl& impl = *tokenizer->impl_;
  impl.spec = text::parse_tokenizer_json(json_text, source);
  std::vector<text::AddedToken> raw, normalized;
  impl.special.assign(impl.spec.id_to_token.size(), false);
  for (const auto& token : impl.spec.added_tokens) {
    (token.normalized ? normalized : raw).push_back(token);
    impl.added_ids[token.content] = token.id;
    if (token.special) impl.special[token.id] = true;
  }
  impl.raw_matcher = text::AddedTokenMatcher(std::move(raw));
  impl.normalized_matcher = text::AddedTokenMatcher(std::move(normalized));
  return tokenizer;
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view input, bool add_special) const {
  std::string repaired;
  input = text::repaired_utf8(input, repaired);
  std::vector<TokenId> ids;
  ids.reserve(input.size() / 3 + 4);
  if (add_special) ids.insert(ids.end(), impl_->spec.prefix_ids.begin(), impl_->spec.prefix_ids.end());
  std::vector<TextSegment> segments, inner;
  impl_->raw_matcher.split(input, segments);
  for (const TextSegment& segment : segments) {
    if (segment.token >= 0) {
      ids.push_back(segment.token);
      continue;
    }
    std::string normalized = impl_->normalize(segment.text);
    inner.clear();
    impl_->normalized_matcher.split(normalized, inner);
    for (const TextSegment& piece : inner) {
      if (piece.token >= 0) {
        ids.push_back(piece.token);
      } else {
        bool text_start = segment.text.data() == input.data() && piece.text.data() == normalized.data();
        impl_->pre_tokenize_and_encode(piece.text, text_start, ids);
      }
    }
  }
  if (add_special) ids.insert(ids.end(), impl_->spec.suffix_ids.begin(), impl_->spec.suffix_ids.end());
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special) const {
  const auto& table = impl_->spec.id_to_token;
  const auto& decoder = impl_->spec.decoder;
  // Byte-level models decode token by token (the generation hot path).
  bool byte_level_only = decoder.size() == 1 && decoder[0].kind == text::DecoderStep::Kind::kByteLevel;
  const auto& alphabet = text::ByteLevelAlphabet::get();
  std::string out;
  std::vector<std::string> tokens;
  for (TokenId id : ids) {
    // Unknown ids are skipped, as HF's decode does.
    if (id < 0 || static_cast<std::size_t>(id) >= table.size() || table[id].empty()) continue;
    if (skip_special && impl_->special[id]) continue;
    const std::string& token = table[id];
    if (!byte_level_only) {
      tokens.push_back(token);
    } else if (auto bytes = alphabet.decode(token)) {
      out += *bytes;
    } else {
      out += token;  // e.g. an added token with characters outside the alphabet
    }
  }
  if (byte_level_only) return out;
  if (!decoder.empty()) return text::decode_tokens(decoder, std::move(tokens));
  // No decoder: HF joins the token strings with spaces.
  for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

int64_t BpeTokenizer::vocab_size() const { return static_cast<int64_t>(impl_->spec.id_to_token.size()); }

std::optional<TokenId> BpeTokenizer::token_to_id(std::string_view token) const {
  std::string key(token);
  auto added = impl_->added_ids.find(key);
  if (added != impl_->added_ids.end()) return added->second;
  const auto& vocab = impl_->spec.model->vocab();
  auto it = vocab.find(key);
  if (it != vocab.end()) return it->second;
  return std::nullopt;
}

std::string BpeTokenizer::id_to_token(TokenId id) const {
  const auto& table = impl_->spec.id_to_token;
  if (id < 0 || static_cast<std::size_t>(id) >= table.size()) return std::string();
  return table[id];
}

const SpecialTokens& BpeTokenizer::special_tokens() const { return impl_->special_tokens; }

bool BpeTokenizer::is_special(TokenId id) const {
  return id >= 0 && static_cast<std::size_t>(id) < impl_->special.size() && impl_->special[id];
}

void BpeTokenizer::set_special_tokens(SpecialTokens tokens) { impl_->special_tokens = std::move(tokens); }

}  // namespace upm
