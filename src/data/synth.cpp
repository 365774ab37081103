#include "upm/data/synth.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "upm/core/atomic_file.h"
#include "upm/core/random.h"
#include "upm/data/time_format.h"

namespace upm::data {

namespace {

struct TopicWords {
  std::string name;
  std::vector<std::string> phrases;  // description fragments that name the topic's content
};

const std::vector<TopicWords>& topic_table() {
  static const std::vector<TopicWords> table{
      {"science fiction",
       {"a starship crew stranded beyond Jupiter", "an android who learns to dream", "first contact on a frozen moon"}},
      {"horror",
       {"a haunted farmhouse that feeds on fear", "a creature stalking a snowed-in hotel",
        "a cursed doll that whispers at night"}},
      {"romance",
       {"two rivals who fall in love in Paris", "a wedding planner who meets her match",
        "letters between long-lost sweethearts"}},
      {"comedy",
       {"a bumbling detective and his clever dog", "a family road trip where everything goes wrong",
        "an office party that spirals out of control"}},
      {"documentary",
       {"a year inside a coral reef", "the true story of the first vaccines", "life on a remote research station"}},
      {"fantasy",
       {"a young mage hunting a stolen crown", "dragons returning to a forgotten kingdom",
        "an elven archer on a desperate quest"}},
      {"thriller",
       {"a spy racing to stop a bomb in Berlin", "a hacker framed for a murder", "a kidnapping on a night train"}},
      {"history",
       {"the fall of the Roman republic", "sailors on the first voyage around the world",
        "a medieval town during the plague"}},
      {"cooking",
       {"a chef rebuilding her grandmother's bakery", "the secrets of regional Italian pasta",
        "street food across Southeast Asia"}},
      {"sports",
       {"an underdog team chasing the championship", "a marathon runner's comeback",
        "the rivalry of two tennis legends"}},
  };
  return table;
}

const std::vector<std::string> kTitleWords1{"Silent",  "Crimson", "Last",     "Hidden", "Golden", "Broken",
                                            "Endless", "Distant", "Midnight", "Wild",   "Quiet",  "Burning"};
const std::vector<std::string> kTitleWords2{"Orbit", "Harbor",  "Crown",  "Garden",  "Signal", "Winter",
                                            "River", "Promise", "Shadow", "Kitchen", "Season", "Letter"};

struct ChatQuestion {
  std::string question, short_answer, long_answer;
};

const std::vector<ChatQuestion>& chat_questions() {
  static const std::vector<ChatQuestion> questions{
      {"How long should I boil an egg?", "About 9 minutes for hard-boiled.",
       "Put the egg in cold water, bring it to a boil, then simmer: about 6 minutes for a soft yolk and 9 to 10 for "
       "hard-boiled. Cool it in ice water so it peels easily."},
      {"What is a neural network?", "A function built from layers of weighted sums and nonlinearities, fitted to data.",
       "A neural network is a stack of layers; each computes weighted sums of its inputs and applies a nonlinearity. "
       "Training adjusts the weights by gradient descent so that the outputs match examples, which lets the network "
       "learn patterns such as images or language."},
      {"Why is the sky blue?", "Air scatters blue light more than red.",
       "Sunlight holds every color. Molecules in the air scatter short wavelengths far more than long ones (Rayleigh "
       "scattering), so blue light reaches your eyes from every direction of the sky, while the sun itself looks "
       "slightly yellow."},
      {"How do I keep basil alive?", "Give it sun, water when the soil is dry, and pinch off flowers.",
       "Basil wants six or more hours of sun and warm temperatures. Water at the base when the top of the soil feels "
       "dry, never let it sit in water, and pinch off flower buds so the plant keeps making leaves. Harvest from the "
       "top to make it bushy."},
      {"What does compound interest mean?", "Interest earned on earlier interest as well as on the principal.",
       "With compound interest, each period's interest is added to the balance, so the next period earns interest on a "
       "larger amount. Over many years this makes savings grow much faster than simple interest, which only pays on "
       "the original principal."},
      {"How can I sleep better?", "Keep a fixed bedtime, a dark room and no screens late.",
       "Go to bed and wake up at the same times every day, keep the bedroom cool and dark, avoid caffeine after noon "
       "and screens in the last hour before bed, and get daylight in the morning. If you cannot sleep after twenty "
       "minutes, get up and read until you feel tired."},
  };
  return questions;
}

std::string formal(const std::string& answer) { return "Certainly. " + answer + " I hope this is helpful."; }
std::string casual(const std::string& answer) { return "Sure thing! " + answer + " :)"; }

std::string join_and(const std::vector<std::string>& words) {
  if (words.size() == 1) return words[0];
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == words.size() ? " and " : ", ") + words[i];
  }
  return out;
}

std::vector<SynthItem> make_items(Rng& rng, int64_t count, bool category_first) {
  const auto& topics = topic_table();
  std::vector<SynthItem> items;
  std::set<std::string> titles;
  for (int64_t i = 0; i < count; ++i) {
    SynthItem item;
    std::size_t first = rng.below(topics.size());
    item.topics.push_back(topics[first].name);
    if (rng.chance(0.35)) {
      std::size_t second = (first + 1 + rng.below(topics.size() - 1)) % topics.size();
      item.topics.push_back(topics[second].name);
    }
    std::string title = "The " + rng.pick(kTitleWords1) + " " + rng.pick(kTitleWords2);
    // Titles repeat across the 144 combinations: number the repeats.
    std::string unique = title;
    for (int k = 2; !titles.insert(unique).second; ++k) unique = title + " " + std::to_string(k);
    const std::string& phrase = rng.pick(topics[first].phrases);
    item.text = category_first ? "Category: " + join_and(item.topics) + " | " + unique + ": " + phrase
                               : unique + " | " + join_and(item.topics) + ": " + phrase;
    items.push_back(std::move(item));
  }
  return items;
}

SynthTruth make_truth(Rng& rng, const std::string& user_id) {
  std::vector<std::string> names = synth_topics();
  rng.shuffle(names);
  SynthTruth t;
  t.user_id = user_id;
  t.likes = {names[0], names[1]};
  t.dislikes = {names[2], names[3]};
  std::sort(t.likes.begin(), t.likes.end());
  std::sort(t.dislikes.begin(), t.dislikes.end());
  t.verbosity = rng.chance(0.5) ? "concise" : "detailed";
  t.tone = rng.chance(0.5) ? "formal" : "casual";
  t.profile = "Likes " + join_and(t.likes) + ". Dislikes " + join_and(t.dislikes) + ". Prefers " + t.verbosity +
              " answers in a " + t.tone + " tone.";
  return t;
}

// Draws one user's events from their truth.
class UserSimulator {
 public:
  UserSimulator(Rng& rng, const SynthConfig& config, const std::vector<SynthItem>& items, const SynthTruth& truth)
      : rng_(rng), config_(config), items_(items), truth_(truth) {}

  Event next(int index) {
    const SynthEventMix& m = config_.mix;
    // Thresholds on the cumulative weights; with the default mix these are
    // the historical 0.35 / 0.55 / 0.65 / 0.85 cut points.
    const double u = rng_.uniform() * m.total();
    const double c1 = m.rating, c2 = c1 + m.click, c3 = c2 + m.item_pair, c4 = c3 + m.chat_pair;
    Event e = u < c1 ? rating() : u < c2 ? click() : u < c3 ? item_pair() : u < c4 ? chat_pair() : statement();
    e.id = "e" + std::to_string(index + 1);
    return e;
  }

 private:
  double utility(const SynthItem& item) const {
    double value = 0;
    for (const auto& topic : item.topics) {
      if (std::count(truth_.likes.begin(), truth_.likes.end(), topic)) value += 1;
      if (std::count(truth_.dislikes.begin(), truth_.dislikes.end(), topic)) value -= 1;
    }
    return value;
  }
  double noisy_utility(const SynthItem& item) { return utility(item) + config_.utility_noise * rng_.normal(); }
  const SynthItem& random_item() { return items_[rng_.below(items_.size())]; }

  Event rating() {
    const SynthItem& item = random_item();
    Event e;
    e.kind = EventKind::rating;
    e.source = "reviews";
    e.item = item.text;
    e.category = item.topics[0];
    e.value = std::clamp(std::round(3.0 + 1.5 * noisy_utility(item)), 1.0, 5.0);
    return e;
  }

  Event click() {
    const SynthItem* best = nullptr;
    double best_value = -1e9;
    for (int k = 0; k < 4; ++k) {
      const SynthItem& candidate = random_item();
      double v = noisy_utility(candidate);
      if (v > best_value) best = &candidate, best_value = v;
    }
    Event e;
    e.kind = EventKind::click;
    e.source = "store";
    e.item = best->text;
    e.category = best->topics[0];
    return e;
  }

  Event item_pair() {
    const SynthItem& a = random_item();
    const SynthItem* b = &random_item();
    while (b->text == a.text) b = &random_item();
    bool a_wins = noisy_utility(a) >= noisy_utility(*b);
    Event e;
    e.kind = EventKind::pairwise;
    e.source = "survey";
    e.context = "Which would you rather read next?";
    e.chosen = a_wins ? a.text : b->text;
    e.rejected = a_wins ? b->text : a.text;
    return e;
  }

  Event chat_pair() {
    const ChatQuestion& q = rng_.pick(chat_questions());
    bool vary_verbosity = rng_.chance(0.5);
    bool wants_concise = truth_.verbosity == "concise", wants_formal = truth_.tone == "formal";
    bool follows = !rng_.chance(config_.style_noise);
    std::string preferred, other;
    if (vary_verbosity) {
      auto tone = rng_.chance(0.5) ? formal : casual;
      preferred = tone(wants_concise ? q.short_answer : q.long_answer);
      other = tone(wants_concise ? q.long_answer : q.short_answer);
    } else {
      const std::string& body = rng_.chance(0.5) ? q.short_answer : q.long_answer;
      preferred = wants_formal ? formal(body) : casual(body);
      other = wants_formal ? casual(body) : formal(body);
    }
    Event e;
    e.kind = EventKind::pairwise;
    e.source = "assistant";
    e.context = q.question;
    e.chosen = follows ? preferred : other;
    e.rejected = follows ? other : preferred;
    return e;
  }

  Event statement() {
    static const std::vector<std::string> small_talk{"Had a long day at work.", "The weather is lovely today.",
                                                     "Anyone else up this early?", "Just moved to a new flat."};
    Event e;
    e.kind = EventKind::text;
    e.source = "forum";
    double u = rng_.uniform();
    if (u < 0.3) {
      e.text = "I really enjoy " + rng_.pick(truth_.likes) + ".";
    } else if (u < 0.55) {
      e.text = "I can't stand " + rng_.pick(truth_.dislikes) + ".";
    } else if (u < 0.7) {
      e.text = truth_.verbosity == "concise" ? "Please keep answers short and to the point."
                                             : "I like thorough, detailed explanations.";
    } else if (u < 0.8) {
      e.text =
          truth_.tone == "formal" ? "I appreciate polite, formal replies." : "Keep it casual, no need to be formal.";
    } else {
      e.text = rng_.pick(small_talk);
    }
    return e;
  }

  Rng& rng_;
  const SynthConfig& config_;
  const std::vector<SynthItem>& items_;
  const SynthTruth& truth_;
};

}  // namespace

const std::vector<std::string>& synth_topics() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& t : topic_table()) out.push_back(t.name);
    return out;
  }();
  return names;
}

nlohmann::json to_json(const SynthTruth& t) {
  return {{"user_id", t.user_id},
          {"likes", t.likes},
          {"dislikes", t.dislikes},
          {"style", {{"verbosity", t.verbosity}, {"tone", t.tone}}},
          {"profile", t.profile}};
}

namespace {

// Every weight finite and >= 0, at least one positive; `source` names the
// flag or config the mix came from.
void check_event_mix(const SynthEventMix& m, const std::string& source) {
  for (double w : {m.rating, m.click, m.item_pair, m.chat_pair, m.statement}) {
    if (!(w >= 0.0) || !std::isfinite(w))
      throw InputError(Location{source, 0, "mix"}, "weights must be finite and >= 0");
  }
  if (!(m.total() > 0.0))
    throw InputError(Location{source, 0, "mix"}, "the event mix needs at least one positive weight");
}

}  // namespace

SynthEventMix parse_event_mix(const std::string& text) {
  SynthEventMix mix;
  const std::map<std::string, double*> weights{{"rating", &mix.rating},
                                               {"click", &mix.click},
                                               {"item_pair", &mix.item_pair},
                                               {"chat_pair", &mix.chat_pair},
                                               {"statement", &mix.statement}};
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string pair = text.substr(start, end - start);
    const size_t eq = pair.find('=');
    const std::string kind = pair.substr(0, eq);
    if (eq == std::string::npos || !weights.count(kind)) {
      throw InputError(Location{"--event-mix", 0, pair},
                       "expected kind=weight with kind one of rating, click, item_pair, chat_pair, statement");
    }
    const std::string number = pair.substr(eq + 1);
    size_t used = 0;
    double value = -1.0;
    try {
      value = std::stod(number, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (number.empty() || used != number.size() || !(value >= 0.0) || !std::isfinite(value)) {
      throw InputError(Location{"--event-mix", 0, kind}, "weight \"" + number + "\" is not a number >= 0");
    }
    *weights.at(kind) = value;
    start = end + 1;
  }
  check_event_mix(mix, "--event-mix");
  return mix;
}

SynthWorld make_synthetic_world(const SynthConfig& config) {
  if (config.max_events < config.min_events) {
    throw InputError(Location{"synth", 0, "max_events"}, "must be >= min_events");
  }
  check_event_mix(config.mix, "synth");
  Rng rng(static_cast<uint64_t>(config.seed));
  SynthWorld world;
  world.items = make_items(rng, config.items, config.category_first);
  const int64_t start = 1704067200;  // 2024-01-01T00:00:00Z
  for (int64_t u = 0; u < config.users; ++u) {
    SynthTruth truth = make_truth(rng, "synth-" + std::to_string(u + 1));
    UserSimulator simulator(rng, config, world.items, truth);
    UserLog log;
    log.user_id = truth.user_id;
    int64_t n = rng.between(config.min_events, config.max_events);
    int64_t t = start + rng.between(0, 30 * 86400);
    for (int64_t i = 0; i < n; ++i) {
      t += rng.between(600, 72 * 3600);
      Event e = simulator.next(static_cast<int>(i));
      e.ts = iso8601_utc(t);
      log.events.push_back(std::move(e));
    }
    world.logs.push_back(std::move(log));
    world.truth.push_back(std::move(truth));
  }
  return world;
}

void write_synthetic_world(const SynthWorld& world, const std::string& dir) {
  make_directories(dir);
  write_user_logs(dir + "/log.jsonl", world.logs);
  std::string truth, items;
  for (const auto& t : world.truth) truth += to_json(t).dump() + "\n";
  for (const auto& item : world.items) {
    items += nlohmann::json{{"item", item.text}, {"topics", item.topics}}.dump() + "\n";
  }
  write_file_atomic(dir + "/truth.jsonl", truth);
  write_file_atomic(dir + "/items.jsonl", items);
}

}  // namespace upm::data
