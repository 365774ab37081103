#pragma once
// Preference statistics of a set of events, the evidence the rule-based
// teacher writes profiles from:
//   topics   net votes per topic of an item: a rating votes 2 * (value within
//            its scale) - 1, i.e. -1..+1 (or, centered, against the events'
//            mean rating); a click votes +click_weight; an item
//            pair votes +1 for the chosen item's topics and -1 for the
//            rejected one's; a statement ("I really enjoy cooking.", "I can't
//            stand horror.") votes +-text_weight for what it names.
//   style    answer pairs without item topics vote for concise/detailed (the
//            chosen answer clearly shorter / longer) and formal/casual (tone
//            markers such as "Certainly" vs "!" or ":)"); statements vote too.
//   sources  events per source.
// An item's topics are its `category` plus the list after the title in the
// "Title | topic, topic: description" form that the converters and `synth`
// write ("Heat (1995) | Action, Crime", "The Silent Orbit | science fiction
// and thriller: ...").

#include <map>
#include <string>
#include <vector>

#include "upm/data/event.h"

namespace upm {

struct TopicVotes {
  double score = 0.0;  // net
  int events = 0;      // events that voted
};

struct EventStatistics {
  std::map<std::string, TopicVotes> topics;                  // keyed by lower-cased topic
  std::map<std::string, std::string> topic_names;            // lower-cased -> as first written
  double concise = 0, detailed = 0, formal = 0, casual = 0;  // style votes
  std::map<std::string, int> sources;
  std::map<std::string, int> kinds;  // rating, pairwise, click, text
  int events = 0;
};

struct VoteWeights {
  double click = 0.5;
  double text = 2.0;
  // A rating votes 2 x (value - the mean of the events' ratings) / the
  // scale's range instead of 2 x (value within its scale) - 1: real raters
  // use the top of the scale (MovieLens users average about 3.5 of 0.5-5),
  // so against the scale's midpoint nearly every genre they watch reads as
  // liked; against their own mean a genre is liked when they rate it above
  // their usual.
  bool center_ratings = false;
};

// Topics of an item text (and its category), de-duplicated, in order.
std::vector<std::string> item_topics(const std::string& item, const std::string& category);

EventStatistics tally_events(const std::vector<data::Event>& events, const VoteWeights& weights);

// Adds `weight` votes for a topic (previous profiles, merges).
void add_topic_vote(EventStatistics& stats, const std::string& topic, double weight);

// A one-paragraph account of the statistics (the teacher's "reasoning").
std::string describe_statistics(const EventStatistics& stats);

}  // namespace upm
