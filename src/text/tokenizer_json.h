#pragma once
// Reads a Hugging Face tokenizer.json into the parts UPM implements, and
// rejects (InputError naming the feature) everything it does not, so that a
// tokenizer is either exact or refused.

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

// One step of the pre-tokenizer chain.
struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel } kind = Kind::kSplit;
  std::shared_ptr<RegexSplitter> splitter;  // kSplit, or kByteLevel with use_regex
  bool drop_matches = false;                // kSplit with behavior "Removed"
  bool add_prefix_space = false;            // kByteLevel
};

struct TokenizerJsonSpec {
  bool nfc = false;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::vector<AddedToken> added_tokens;
  std::vector<std::string> id_to_token;  // "" for ids with no token
  std::vector<TokenId> prefix_ids, suffix_ids;  // post-processor (add_special)
  bool byte_level_decoder = false;
};

TokenizerJsonSpec parse_tokenizer_json(std::string_view json_text, const std::string& source);

}  // namespace upm::text
