#pragma once
// When one generated sequence ends: on a stop token id (eos, <|im_end|>, ids
// from the config) or when a stop string appears in its decoded text.
//
// Stop strings are checked on the decoded text of the newest tokens only (a
// window a few tokens longer than the longest stop string, so the check costs
// the same at token 10 and at token 4000); a hit is confirmed and located on
// the full text. A byte-level token adds at least one byte, so the window
// always covers the newest stop-string-length bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "upm/infer/generation_config.h"

namespace upm {

class Tokenizer;
struct ModelConfig;

struct StopStringMatch {
  std::string stop;  // the stop string found
  size_t position;   // its byte offset in the full decoded text
};

class StopCriteria {
 public:
  // Resolves the stop ids: config.stop_token_ids, plus (stop_at_eos) the
  // tokenizer's stop ids and the model config's eos_token_id (an id or a list).
  // Stop strings need a tokenizer (InputError otherwise) and must be non-empty.
  StopCriteria(const GenerationConfig& config, const Tokenizer* tokenizer, const ModelConfig& model);

  bool is_stop_token(int64_t id) const;
  bool has_stop_strings() const { return !stop_strings_.empty(); }
  const std::vector<int64_t>& stop_ids() const { return stop_ids_; }

  // The earliest stop string in the text of `generated` if one ends within
  // its newest tokens (call after every new token).
  std::optional<StopStringMatch> find_stop_string(const std::vector<int64_t>& generated) const;

  // Text of a finished sequence: a final stop token is left out, and the text
  // is cut where a matched stop string begins. Empty without a tokenizer.
  std::string final_text(const std::vector<int64_t>& generated, bool ended_by_stop_token,
                         const std::optional<StopStringMatch>& match) const;

 private:
  std::string decode(const std::vector<int64_t>& ids, size_t begin) const;

  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::vector<int64_t> stop_ids_;
  std::vector<std::string> stop_strings_;
  size_t window_tokens_ = 0;
};

}  // namespace upm
