#pragma once
// Text side of Q-Anchor: a user's history and a task query -> token ids.
//
// The history is rendered by the data layer's profile builder with the
// template configs/prompts/embed_history.txt (oldest events dropped first to
// fit `prompts.max_prompt_tokens`), tokenized once, with the tokenizer's BOS
// in front when it has one. Each query is rendered with `query_template`
// ({{query}} = the query's text) and tokenized on its own, so that its ids are
// the same for every user and the sequence is exactly history ids + query ids.
//
// The embedding position: when the tokenizer knows `marker_token` (default
// "<USER_EMB>", the Q-Anchor paper's marker) its id is appended after the
// query and the embedding is read there. Otherwise -- any stock checkpoint,
// whose vocabulary has no such token -- the FALLBACK is the query's last
// token (the hidden state after reading the whole query), and marker()
// says so. A marker can be demanded with require_marker.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "upm/core/config.h"
#include "upm/data/prompt_builder.h"
#include "upm/data/prompt_config.h"

namespace upm {

class Tokenizer;

struct EmbeddingPromptConfig {
  data::PromptConfig prompts = default_prompts();
  std::string query_template = "\nQuery: {{query}}";
  std::string marker_token = "<USER_EMB>";
  bool require_marker = false;  // InputError when the tokenizer lacks marker_token
  bool add_bos = true;          // prepend the tokenizer's BOS to the history (if it has one)

  // The history template and a history budget fitted to embedding jobs.
  static data::PromptConfig default_prompts() {
    data::PromptConfig p;
    p.profile_template = "embed_history.txt";
    p.max_prompt_tokens = 1024;
    return p;
  }
};

inline void describe(ConfigIO& io, EmbeddingPromptConfig& c) {
  io.section("prompts", c.prompts);
  io.field("query_template", c.query_template);
  io.field("marker_token", c.marker_token);
  io.field("require_marker", c.require_marker);
  io.field("add_bos", c.add_bos);
}

struct HistoryTokens {
  std::vector<int64_t> ids;
  int64_t events_kept = 0;
  int64_t events_dropped = 0;
};

class EmbeddingPrompts {
 public:
  EmbeddingPrompts(std::shared_ptr<const Tokenizer> tokenizer, EmbeddingPromptConfig config);

  HistoryTokens history(const data::UserLog& log) const;
  // Query text -> ids ending at the embedding position (marker included).
  std::vector<int64_t> query(const std::string& text) const;

  // "token:<USER_EMB>" or "last_query_token" (the fallback).
  std::string marker() const;
  bool has_marker_token() const { return marker_id_ >= 0; }

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
  EmbeddingPromptConfig config_;
  data::PromptBuilder builder_;
  data::PromptTemplate query_template_;
  int64_t marker_id_ = -1;
};

}  // namespace upm
