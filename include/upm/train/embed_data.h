#pragma once
// Training data of Q-Anchor embedding training: (user, query, positive) pairs.
// The anchor is the user's history (from a user log) followed by the query;
// the positive is the text of a behaviour of that user that was HELD OUT of
// the history (so the model must infer it, not copy it). Other rows of the
// batch are the negatives.
//
// Pairs file (JSONL, one pair per line):
//   {"user_id": "u1", "query": "Which titles would this user enjoy?", "positive": "The Silent Orbit | ..."}
// Every user_id must have a line in the user log given beside it.
//
// hold_out_positives builds both files from full logs: for each user, the
// newest `per_user` positive events whose source has a query are taken out of
// the history and become pairs (the query chosen by the event's source).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "upm/data/user_log.h"

namespace upm {

struct EmbedPair {
  std::string user_id;
  std::string query;
  std::string positive;
  size_t line = 0;  // line in the pairs file (0 = built in memory)
};

// Strict: the first bad line is an InputError naming file:line: field.
std::vector<EmbedPair> read_embed_pairs(const std::string& path);
void write_embed_pairs(const std::string& path, const std::vector<EmbedPair>& pairs);

// The positive behaviour an event shows, as text: a rated item whose rating
// is at least `min_rating` of its scale (0..1), a clicked item, the chosen
// side of a pairwise choice, a written text. nullopt for anything else.
std::optional<std::string> positive_text(const data::Event& event, double min_rating);

struct HoldoutOptions {
  int64_t per_user = 4;                        // held-out positives per user (newest first)
  double min_rating = 0.75;                    // normalised rating that counts as positive
  std::map<std::string, std::string> queries;  // event source -> query text
};

struct HeldOut {
  std::vector<data::UserLog> histories;  // the logs without the held-out events
  std::vector<EmbedPair> pairs;
};

HeldOut hold_out_positives(const std::vector<data::UserLog>& logs, const HoldoutOptions& options);

}  // namespace upm
