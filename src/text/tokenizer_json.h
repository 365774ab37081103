#pragma once
// Reads a Hugging Face tokenizer.json into the parts UPM implements, and
// rejects (InputError naming the feature) everything it does not, so that a
// tokenizer is either exact or refused. Two BPE families: byte-level (the
// pre-tokenizer ends with ByteLevel) and SentencePiece-style (a Metaspace
// pre-tokenizer, characters as symbols, byte_fallback), as HF converts the
// Llama 2 / Mistral vocabularies.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "added_tokens.h"
#include "bpe_model.h"
#include "regex_splitter.h"

namespace upm::text {

// One step of the normalizer chain.
struct NormalizerStep {
  enum class Kind { kNfc, kPrepend, kReplace } kind = Kind::kNfc;
  std::string pattern;  // kReplace: the literal replaced
  std::string content;  // kReplace: what replaces it; kPrepend: what goes before non-empty text
};

// One step of the pre-tokenizer chain.
struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel, kMetaspace } kind = Kind::kSplit;
  enum class Prepend { kAlways, kFirst, kNever };
  std::shared_ptr<RegexSplitter> splitter;  // kSplit, or kByteLevel with use_regex
  bool drop_matches = false;                // kSplit with behavior "Removed"
  bool add_prefix_space = false;            // kByteLevel
  std::string replacement;                  // kMetaspace: what stands for a space (U+2581)
  Prepend prepend = Prepend::kAlways;       // kMetaspace: kFirst only at the start of the text
  bool split_at_replacement = false;        // kMetaspace "split": each piece starts at a replacement
};

// One step of the decoder chain, applied to the list of token strings.
struct DecoderStep {
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip } kind = Kind::kByteLevel;
  std::string pattern, content;  // kReplace: literal -> content; kStrip: the character stripped
  int strip_start = 0, strip_stop = 0;
};

struct TokenizerJsonSpec {
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::vector<AddedToken> added_tokens;
  std::vector<std::string> id_to_token;         // "" for ids with no token
  std::vector<TokenId> prefix_ids, suffix_ids;  // post-processor (add_special)
  std::vector<DecoderStep> decoder;             // empty: tokens joined with spaces
};

TokenizerJsonSpec parse_tokenizer_json(std::string_view json_text, const std::string& source);

}  // namespace upm::text
