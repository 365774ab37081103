#include "upm/text/bpe_tokenizer.h"

#include <deque>
#include <fstream>
#include <sstream>

#include <utf8proc.h>

#include "byte_level.h"
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
  void pre_tokenize_and_encode(std::string_view segment, std::vector<TokenId>& ids) const;
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

}  // namespace

std::string BpeTokenizer::Impl::normalize(std::string_view segment) const {
  if (!spec.nfc || nfc_inert(segment)) return std::string(segment);
  utf8proc_uint8_t* result = nullptr;
  auto size = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(segment.data()),
                           static_cast<utf8proc_ssize_t>(segment.size()), &result,
                           static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (size < 0) throw Error(std::string("NFC normalization failed: ") + utf8proc_errmsg(size));
  std::string normalized(reinterpret_cast<char*>(result), static_cast<std::size_t>(size));
  std::free(result);
  return normalized;
}

void BpeTokenizer::Impl::pre_tokenize_and_encode(std::string_view segment, std::vector<TokenId>& ids) const {
  std::vector<std::string_view> pieces{segment}, next;
  std::deque<std::string> owned;  // pieces that gained a prefix space
  for (const auto& step : spec.pre_tokenizer) {
    next.clear();
    for (std::string_view piece : pieces) {
      if (step.kind == text::PreTokenizerStep::Kind::kByteLevel && step.add_prefix_space &&
          (piece.empty() || piece[0] != ' ')) {
        owned.push_back(" " + std::string(piece));
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
        impl_->pre_tokenize_and_encode(piece.text, ids);
      }
    }
  }
  if (add_special) ids.insert(ids.end(), impl_->spec.suffix_ids.begin(), impl_->spec.suffix_ids.end());
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special) const {
  const auto& alphabet = text::ByteLevelAlphabet::get();
  const auto& table = impl_->spec.id_to_token;
  std::string out;
  bool first = true;
  for (TokenId id : ids) {
    // Unknown ids are skipped, as HF's decode does.
    if (id < 0 || static_cast<std::size_t>(id) >= table.size() || table[id].empty()) continue;
    if (skip_special && impl_->special[id]) continue;
    const std::string& token = table[id];
    if (!impl_->spec.byte_level_decoder) {
      // No decoder: HF joins the token strings with spaces.
      if (!first) out += ' ';
      out += token;
    } else if (auto bytes = alphabet.decode(token)) {
      out += *bytes;
    } else {
      out += token;  // e.g. an added token with characters outside the alphabet
    }
    first = false;
  }
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
