#pragma once
// How an event reads inside a prompt: one line per event, the same shape for
// every source, e.g.
//   - [2024-03-01 | movies] rated "Heat (1995) | Action" 5 on a 1-5 scale
//   - [chat] asked "Explain RL": preferred "RL is ..." over "Reinforcement ..."
//   - [shop] clicked "Alien (1979)"
//   - [forum] wrote "I never watch horror."
// Line breaks inside texts become spaces; a text longer than `max_chars`
// bytes is cut at a UTF-8 boundary and marked with "...".

#include <cstddef>
#include <string>
#include <vector>

#include "upm/data/event.h"

namespace upm::data {

std::string format_event(const Event& event, std::size_t max_chars);

// One event per line, in the given order.
std::string format_events(const std::vector<Event>& events, std::size_t max_chars);

// Text made safe for one prompt line (see above).
std::string one_line(const std::string& text, std::size_t max_chars);

}  // namespace upm::data
