#pragma once
// A SentencePiece model file (tokenizer.model, a serialized ModelProto) read
// without libprotobuf: Debian's libsentencepiece carries its own protobuf
// 3.14 and cannot share a process with LibTorch's libprotobuf 3.21 (its
// version check fails at the first Load). Only the fields that change
// encoding are read; anything that would change it and is not implemented
// (unigram models, precompiled normalization rules) is an InputError.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace upm::text {

struct SentencePieceModel {
  // ModelProto.SentencePiece.Type
  enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  struct Piece {
    std::string text;
    float score = 0;
    PieceType type = kNormal;
  };
  std::vector<Piece> pieces;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  std::string unk_surface = " \xE2\x81\x87 ";
  std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Parses and checks the serialized model; `source` names it in errors.
SentencePieceModel parse_sentencepiece_model(std::string_view bytes, const std::string& source);

}  // namespace upm::text
