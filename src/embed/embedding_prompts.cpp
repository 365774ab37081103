#include "upm/embed/embedding_prompts.h"

#include "upm/core/error.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

std::vector<int64_t> widen(const std::vector<TokenId>& ids) { return std::vector<int64_t>(ids.begin(), ids.end()); }

}  // namespace

EmbeddingPrompts::EmbeddingPrompts(std::shared_ptr<const Tokenizer> tokenizer, EmbeddingPromptConfig config)
    : tokenizer_(std::move(tokenizer)),
      config_(std::move(config)),
      builder_(config_.prompts, [t = tokenizer_](std::string_view text) { return t->count_tokens(text); }),
      query_template_(data::PromptTemplate::parse(config_.query_template, "query_template")) {
  query_template_.check({"query"}, {"query"});
  if (!config_.marker_token.empty()) {
    if (auto id = tokenizer_->token_to_id(config_.marker_token)) marker_id_ = *id;
  }
  if (marker_id_ < 0 && config_.require_marker) {
    throw InputError(Location{"", 0, "marker_token"},
                     "the tokenizer has no token '" + config_.marker_token + "' (require_marker is set)");
  }
}

std::string EmbeddingPrompts::marker() const {
  return marker_id_ >= 0 ? "token:" + config_.marker_token : "last_query_token";
}

HistoryTokens EmbeddingPrompts::history(const data::UserLog& log) const {
  data::BuiltPrompt prompt = builder_.profile(log);
  if (!prompt.fits) {
    throw InputError(Location{config_.prompts.template_path(config_.prompts.profile_template), 0, "max_prompt_tokens"},
                     "the history template alone exceeds the budget of " +
                         std::to_string(config_.prompts.max_prompt_tokens) + " tokens");
  }
  HistoryTokens out;
  const auto& special = tokenizer_->special_tokens();
  if (config_.add_bos && special.bos) out.ids.push_back(*special.bos);
  for (TokenId id : tokenizer_->encode(prompt.text, false)) out.ids.push_back(id);
  out.events_kept = int64_t(prompt.events_kept);
  out.events_dropped = int64_t(prompt.events_dropped);
  return out;
}

std::vector<int64_t> EmbeddingPrompts::query(const std::string& text) const {
  std::vector<int64_t> ids = widen(tokenizer_->encode(query_template_.render({{"query", text}}), false));
  if (marker_id_ >= 0) ids.push_back(marker_id_);
  if (ids.empty()) throw InputError(Location{"", 0, "query"}, "query renders to no tokens");
  return ids;
}

}  // namespace upm
