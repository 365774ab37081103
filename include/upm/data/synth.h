#pragma once
// Synthetic users with known latent preferences, so that a test can check
// whether a profile pipeline recovers what is really there.
//
// The world: items (titles with one or two topics and a text description)
// and chat questions with a short and a long answer. Each user likes two
// topics, dislikes two, and prefers a writing style on two dimensions
// (verbosity: concise | detailed; tone: formal | casual). Behavior is drawn
// from these with noise:
//   rating   (source "reviews") 1-5 from topic utility + Gaussian noise
//   click    (source "store")   the best of a slate of 4 by noisy utility
//   pairwise (source "survey")  the better of two items by noisy utility
//   pairwise (source "assistant") two answers differing in one style
//            dimension; the preferred style wins with prob. 1 - style_noise
//   text     (source "forum")   a true statement about a like, a dislike or
//            the style, or small talk that carries no preference
// Everything is a function of the seed (Rng, core/random.h): same seed, same bytes.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "upm/core/config.h"
#include "upm/data/user_log.h"

namespace upm::data {

// How often each kind of event is drawn, as relative weights (they need not
// sum to 1). The defaults are the mix every earlier world was drawn with, so a
// seed gives the same files as before the mix could be set.
struct SynthEventMix {
  double rating = 0.35;     // reviews
  double click = 0.20;      // store
  double item_pair = 0.10;  // survey
  double chat_pair = 0.20;  // assistant
  double statement = 0.15;  // forum

  double total() const { return rating + click + item_pair + chat_pair + statement; }
};

inline void describe(ConfigIO& io, SynthEventMix& m) {
  io.field("rating", m.rating).at_least(0.0);
  io.field("click", m.click).at_least(0.0);
  io.field("item_pair", m.item_pair).at_least(0.0);
  io.field("chat_pair", m.chat_pair).at_least(0.0);
  io.field("statement", m.statement).at_least(0.0);
  if (io.reading() && !(m.total() > 0.0)) {
    io.fail("chat_pair", "the event mix needs at least one positive weight");
  }
}

// "chat_pair=0.45,rating=0.2": the named weights replace the defaults, the
// others keep theirs. An unknown kind, a malformed pair or a negative weight is
// an InputError.
SynthEventMix parse_event_mix(const std::string& text);

struct SynthConfig {
  int64_t users = 100;
  int64_t seed = 0;
  int64_t items = 200;
  int64_t min_events = 30;
  int64_t max_events = 60;
  double utility_noise = 0.5;  // sd of the Gaussian added to topic utility
  double style_noise = 0.1;    // probability of choosing against the preferred style
  // Item text "Category: horror and romance | The Silent Shadow: a creature ..." instead
  // of "The Silent Shadow | horror and romance: a creature ...": the category
  // comes first, as in a store's breadcrumb, so a model that reads an item left
  // to right (a small blind judge scoring it as a continuation) meets the
  // category before the title it has no reason to prefer. ("Category: " and
  // not "[horror]": the topic word then tokenizes as it does in a profile.)
  bool category_first = false;
  SynthEventMix mix;
};

inline void describe(ConfigIO& io, SynthConfig& c) {
  io.field("users", c.users).at_least(1);
  io.field("seed", c.seed);
  io.field("items", c.items).at_least(10);
  io.field("min_events", c.min_events).at_least(1);
  io.field("max_events", c.max_events).at_least(1);
  io.field("utility_noise", c.utility_noise).at_least(0.0);
  io.field("style_noise", c.style_noise).at_least(0.0).at_most(1.0);
  io.field("category_first", c.category_first);
  io.section("mix", c.mix);
}

// The latent preferences of one user (a line of truth.jsonl).
struct SynthTruth {
  std::string user_id;
  std::vector<std::string> likes;
  std::vector<std::string> dislikes;
  std::string verbosity;  // "concise" | "detailed"
  std::string tone;       // "formal" | "casual"
  std::string profile;    // the truth as a sentence, e.g. "Likes comedy and history. ..."
};

nlohmann::json to_json(const SynthTruth& truth);

struct SynthItem {
  std::string text;  // "The Silent Orbit | science fiction, thriller: ..."
  std::vector<std::string> topics;
};

struct SynthWorld {
  std::vector<SynthItem> items;
  std::vector<UserLog> logs;
  std::vector<SynthTruth> truth;
};

// The topic names (also the words a profile would use).
const std::vector<std::string>& synth_topics();

SynthWorld make_synthetic_world(const SynthConfig& config);

// Writes DIR/log.jsonl, DIR/truth.jsonl and DIR/items.jsonl.
void write_synthetic_world(const SynthWorld& world, const std::string& dir);

}  // namespace upm::data
