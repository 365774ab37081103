#include "sentencepiece_model.h"

#include <cstdint>
#include <cstring>

#include "upm/core/error.h"

namespace upm::text {
namespace {

// Field numbers of sentencepiece_model.proto.
enum ModelField { kPieces = 1, kTrainerSpec = 2, kNormalizerSpec = 3, kDenormalizerSpec = 5 };
enum PieceField { kPieceText = 1, kPieceScore = 2, kPieceType = 3 };
enum TrainerField {
  kModelType = 3,
  kTreatWhitespaceAsSuffix = 24,
  kByteFallback = 35,
  kUnkSurface = 44,
  kUnkPiece = 45,
  kBosPiece = 46,
  kEosPiece = 47,
  kPadPiece = 48
};
enum NormalizerField {
  kName = 1,
  kPrecompiledCharsmap = 2,
  kAddDummyPrefix = 3,
  kRemoveExtraWhitespaces = 4,
  kEscapeWhitespaces = 5
};
constexpr uint64_t kModelTypeBpe = 2;

// One protobuf field as read from the wire.
struct WireField {
  uint32_t number = 0;
  int wire_type = 0;
  uint64_t varint = 0;     // wire type 0, and fixed32/64 bits
  std::string_view bytes;  // wire type 2
};

class WireReader {
 public:
  WireReader(std::string_view data, const std::string& source) : data_(data), source_(source) {}
  bool done() const { return pos_ >= data_.size(); }

  WireField next() {
    WireField field;
    uint64_t tag = varint();
    field.number = static_cast<uint32_t>(tag >> 3);
    field.wire_type = static_cast<int>(tag & 7);
    switch (field.wire_type) {
      case 0: field.varint = varint(); break;
      case 1: field.varint = fixed(8); break;
      case 5: field.varint = fixed(4); break;
      case 2: {
        uint64_t length = varint();
        if (length > data_.size() - pos_) fail("length runs past the end");
        field.bytes = data_.substr(pos_, length);
        pos_ += length;
        break;
      }
      default: fail("unsupported wire type " + std::to_string(field.wire_type));
    }
    return field;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(Location{source_, 0, ""}, "not a SentencePiece model (" + problem + ")");
  }
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail("truncated varint");
      auto byte = static_cast<unsigned char>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return value;
    }
    fail("varint too long");
  }
  uint64_t fixed(std::size_t size) {
    if (data_.size() - pos_ < size) fail("truncated fixed field");
    uint64_t value = 0;
    std::memcpy(&value, data_.data() + pos_, size);  // little-endian hosts only
    pos_ += size;
    return value;
  }
  std::string_view data_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

SentencePieceModel::Piece parse_piece(std::string_view bytes, const std::string& source) {
  SentencePieceModel::Piece piece;
  WireReader in(bytes, source);
  while (!in.done()) {
    WireField field = in.next();
    if (field.number == kPieceText && field.wire_type == 2) piece.text = std::string(field.bytes);
    if (field.number == kPieceScore && field.wire_type == 5) {
      uint32_t bits = static_cast<uint32_t>(field.varint);
      std::memcpy(&piece.score, &bits, sizeof(bits));
    }
    if (field.number == kPieceType && field.wire_type == 0) {
      if (field.varint < 1 || field.varint > 6)
        throw InputError(Location{source, 0, "pieces.type"}, "unknown piece type " + std::to_string(field.varint));
      piece.type = static_cast<SentencePieceModel::PieceType>(field.varint);
    }
  }
  return piece;
}

void parse_trainer_spec(std::string_view bytes, const std::string& source, SentencePieceModel& model) {
  WireReader in(bytes, source);
  uint64_t model_type = 1;  // proto default: UNIGRAM
  while (!in.done()) {
    WireField field = in.next();
    switch (field.number) {
      case kModelType: model_type = field.varint; break;
      case kTreatWhitespaceAsSuffix: model.treat_whitespace_as_suffix = field.varint != 0; break;
      case kByteFallback: model.byte_fallback = field.varint != 0; break;
      case kUnkSurface: model.unk_surface = std::string(field.bytes); break;
      case kUnkPiece: model.unk_piece = std::string(field.bytes); break;
      case kBosPiece: model.bos_piece = std::string(field.bytes); break;
      case kEosPiece: model.eos_piece = std::string(field.bytes); break;
      case kPadPiece: model.pad_piece = std::string(field.bytes); break;
      default: break;
    }
  }
  if (model_type != kModelTypeBpe) {
    static const char* names[] = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};
    std::string name = model_type < 5 ? names[model_type] : std::to_string(model_type);
    throw InputError(Location{source, 0, ""}, "trainer_spec.model_type=" + name + " is not supported (BPE only)");
  }
}

void parse_normalizer_spec(std::string_view bytes, const std::string& source, SentencePieceModel& model,
                           const char* which) {
  WireReader in(bytes, source);
  std::string name;
  bool has_rules = false;
  while (!in.done()) {
    WireField field = in.next();
    switch (field.number) {
      case kName: name = std::string(field.bytes); break;
      case kPrecompiledCharsmap: has_rules = !field.bytes.empty(); break;
      case kAddDummyPrefix: model.add_dummy_prefix = field.varint != 0; break;
      case kRemoveExtraWhitespaces: model.remove_extra_whitespaces = field.varint != 0; break;
      case kEscapeWhitespaces: model.escape_whitespaces = field.varint != 0; break;
      default: break;
    }
  }
  if (has_rules)
    throw InputError(Location{source, 0, ""},
                     std::string(which) + ".name=" + name + " (precompiled normalization rules) is not supported");
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(std::string_view bytes, const std::string& source) {
  SentencePieceModel model;
  bool has_trainer_spec = false;
  WireReader in(bytes, source);
  while (!in.done()) {
    WireField field = in.next();
    if (field.wire_type != 2) continue;
    if (field.number == kPieces) model.pieces.push_back(parse_piece(field.bytes, source));
    if (field.number == kTrainerSpec) {
      parse_trainer_spec(field.bytes, source, model);
      has_trainer_spec = true;
    }
    if (field.number == kNormalizerSpec) parse_normalizer_spec(field.bytes, source, model, "normalizer_spec");
    if (field.number == kDenormalizerSpec) {
      SentencePieceModel ignored;
      parse_normalizer_spec(field.bytes, source, ignored, "denormalizer_spec");
    }
  }
  if (model.pieces.empty() || !has_trainer_spec)
    throw InputError(Location{source, 0, ""}, "not a SentencePiece model (no pieces or no trainer_spec)");
  return model;
}

}  // namespace upm::text
