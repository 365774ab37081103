#pragma once
// One behavior event of a user log (see docs/design.md "User log"). Four kinds:
//   rating   item + value within scale (scale defaults to [1, 5] when absent)
//   pairwise chosen + rejected (context optional)
//   click    item (context optional: what the user was shown or asked)
//   text     text (a statement the user wrote)
// Common fields: id (unique within the user), kind, optional source, ts
// (ISO 8601, "YYYY-MM-DD..."), and category (an optional grouping of the item,
// e.g. a genre or archive section, used to draw negatives in splits).
// Fields a kind does not use, and unknown fields, are kept in `extra` and
// written back unchanged.

#include <array>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "upm/data/record_reader.h"

namespace upm::data {

enum class EventKind { rating, pairwise, click, text };

const char* kind_name(EventKind kind);
std::optional<EventKind> kind_from_name(const std::string& name);

// Scale used when a rating gives none.
inline constexpr std::array<double, 2> kDefaultRatingScale{1.0, 5.0};

struct Event {
  std::string id;
  EventKind kind = EventKind::text;
  std::string source;                          // "" when absent
  std::string ts;                              // "" when absent
  std::string category;                        // "" when absent
  std::string item;                            // rating, click
  double value = 0;                            // rating
  std::optional<std::array<double, 2>> scale;  // rating; nullopt = default
  std::string context;                         // pairwise, click
  std::string chosen;                          // pairwise
  std::string rejected;                        // pairwise
  std::string text;                            // text
  nlohmann::json extra = nlohmann::json::object();

  std::array<double, 2> rating_scale() const { return scale.value_or(kDefaultRatingScale); }
  // Rating value mapped to [0, 1] within its scale.
  double normalized_value() const;
};

// Parses the event object at field path `path` ("events[3]") of `record`;
// appends every problem found and returns nullopt if there was any.
std::optional<Event> parse_event(const JsonlRecord& record, const nlohmann::json& object, const std::string& path,
                                 Problems& problems);

nlohmann::json to_json(const Event& event);

}  // namespace upm::data
