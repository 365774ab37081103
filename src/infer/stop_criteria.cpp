#include "upm/infer/stop_criteria.h"

#include <algorithm>

#include "upm/core/error.h"
#include "upm/model/model_config.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

void add_ids_from_json(const nlohmann::json& value, std::vector<int64_t>& out) {
  if (value.is_number_integer()) out.push_back(value.get<int64_t>());
  if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_number_integer()) out.push_back(item.get<int64_t>());
    }
  }
}

}  // namespace

StopCriteria::StopCriteria(const GenerationConfig& config, const Tokenizer* tokenizer, const ModelConfig& model)
    : tokenizer_(tokenizer), skip_special_(config.skip_special_tokens), stop_strings_(config.stop_strings) {
  stop_ids_ = config.stop_token_ids;
  if (config.stop_at_eos) {
    if (tokenizer) {
      for (TokenId id : tokenizer->special_tokens().stop) stop_ids_.push_back(id);
    }
    add_ids_from_json(model.eos_token_id, stop_ids_);
  }
  std::sort(stop_ids_.begin(), stop_ids_.end());
  stop_ids_.erase(std::unique(stop_ids_.begin(), stop_ids_.end()), stop_ids_.end());

  size_t longest = 0;
  for (size_t i = 0; i < stop_strings_.size(); ++i) {
    if (stop_strings_[i].empty()) {
      throw InputError(Location{"", 0, "stop_strings[" + std::to_string(i) + "]"}, "a stop string must be non-empty");
    }
    longest = std::max(longest, stop_strings_[i].size());
  }
  if (!stop_strings_.empty() && !tokenizer_) {
    throw InputError(Location{"", 0, "stop_strings"}, "stop strings need a tokenizer to decode the generated text");
  }
  // +4: the window's first token may be the tail of a split UTF-8 character.
  window_tokens_ = longest + 4;
}

bool StopCriteria::is_stop_token(int64_t id) const {
  return std::binary_search(stop_ids_.begin(), stop_ids_.end(), id);
}

std::string StopCriteria::decode(const std::vector<int64_t>& ids, size_t begin) const {
  if (!tokenizer_) return "";
  std::vector<TokenId> part(ids.begin() + std::min(begin, ids.size()), ids.end());
  return tokenizer_->decode(part, skip_special_);
}

std::optional<StopStringMatch> StopCriteria::find_stop_string(const std::vector<int64_t>& generated) const {
  if (stop_strings_.empty() || generated.empty()) return std::nullopt;
  const size_t begin = generated.size() > window_tokens_ ? generated.size() - window_tokens_ : 0;
  const std::string window = decode(generated, begin);
  bool hit = false;
  for (const auto& stop : stop_strings_) hit |= window.find(stop) != std::string::npos;
  if (!hit) return std::nullopt;
  // Locate on the full text: the earliest occurrence of any stop string.
  const std::string text = begin == 0 ? window : decode(generated, 0);
  std::optional<StopStringMatch> best;
  for (const auto& stop : stop_strings_) {
    const size_t at = text.find(stop);
    if (at != std::string::npos && (!best || at < best->position)) best = StopStringMatch{stop, at};
  }
  return best;
}

std::string StopCriteria::final_text(const std::vector<int64_t>& generated, bool ended_by_stop_token,
                                     const std::optional<StopStringMatch>& match) const {
  if (!tokenizer_) return "";
  std::vector<int64_t> kept = generated;
  if (ended_by_stop_token && !kept.empty()) kept.pop_back();
  std::string text = decode(kept, 0);
  if (match && match->position <= text.size()) text.resize(match->position);
  return text;
}

}  // namespace upm
