#include "upm/text/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include "added_tokens.h"
#include "upm/core/error.h"
#include "upm/text/utf8.h"

namespace upm {

struct SentencePieceTokenizer::Impl {
  sentencepiece::SentencePieceProcessor processor;
  text::AddedTokenMatcher controls;  // <s>, </s>, ... written in the text
  SpecialTokens special_tokens;
};

SentencePieceTokenizer::SentencePieceTokenizer() : impl_(std::make_unique<Impl>()) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_file(const std::string& path) {
  std::unique_ptr<SentencePieceTokenizer> tokenizer(new SentencePieceTokenizer());
  auto& processor = tokenizer->impl_->processor;
  auto status = processor.Load(path);
  if (!status.ok()) throw InputError(Location{path, 0, ""}, "not a SentencePiece model: " + status.ToString());
  std::vector<text::AddedToken> controls;
  for (int id = 0; id < processor.GetPieceSize(); ++id) {
    if (processor.IsControl(id) && !processor.IdToPiece(id).empty())
      controls.push_back({processor.IdToPiece(id), id, true});
  }
  tokenizer->impl_->controls = text::AddedTokenMatcher(std::move(controls));
  SpecialTokens& special = tokenizer->impl_->special_tokens;
  if (processor.bos_id() >= 0) special.bos = processor.bos_id();
  if (processor.eos_id() >= 0) special.eos = processor.eos_id();
  if (processor.pad_id() >= 0) special.pad = processor.pad_id();
  if (special.eos) special.stop.push_back(*special.eos);
  return tokenizer;
}

std::vector<TokenId> SentencePieceTokenizer::encode(std::string_view input, bool add_special) const {
  std::string repaired;
  input = text::repaired_utf8(input, repaired);
  std::vector<TokenId> ids;
  if (add_special && impl_->processor.bos_id() >= 0) ids.push_back(impl_->processor.bos_id());
  std::vector<text::TextSegment> segments;
  impl_->controls.split(input, segments);
  std::vector<int> piece_ids;
  for (const auto& segment : segments) {
    if (segment.token >= 0) {
      ids.push_back(segment.token);
      continue;
    }
    auto status = impl_->processor.Encode(absl::string_view(segment.text.data(), segment.text.size()), &piece_ids);
    if (!status.ok()) throw Error("SentencePiece encode failed: " + status.ToString());
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  }
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special) const {
  const auto& processor = impl_->processor;
  std::string out;
  std::vector<int> run;  // consecutive ordinary ids, decoded together
  auto flush = [&] {
    if (run.empty()) return;
    out += processor.DecodeIds(run);
    run.clear();
  };
  for (TokenId id : ids) {
    if (id < 0 || id >= processor.GetPieceSize()) continue;  // unknown ids are skipped
    if (processor.IsControl(id)) {
      flush();
      if (!skip_special) out += processor.IdToPiece(id);
      continue;
    }
    run.push_back(id);
  }
  flush();
  return out;
}

int64_t SentencePieceTokenizer::vocab_size() const { return impl_->processor.GetPieceSize(); }

std::optional<TokenId> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  int id = impl_->processor.PieceToId(absl::string_view(token.data(), token.size()));
  // PieceToId answers unk for unknown pieces; only the unk piece itself maps there.
  if (id == impl_->processor.unk_id() && impl_->processor.IdToPiece(id) != token) return std::nullopt;
  return id;
}

std::string SentencePieceTokenizer::id_to_token(TokenId id) const {
  if (id < 0 || id >= impl_->processor.GetPieceSize()) return std::string();
  return impl_->processor.IdToPiece(id);
}

const SpecialTokens& SentencePieceTokenizer::special_tokens() const { return impl_->special_tokens; }

void SentencePieceTokenizer::set_special_tokens(SpecialTokens tokens) { impl_->special_tokens = std::move(tokens); }

}  // namespace upm
