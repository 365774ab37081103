#pragma once
// A teacher writes candidate profiles for the SFT data builder
// (generate-validate-merge, sft_data_builder.h). Given one user's events (a
// history slice, or the new events of a streaming update with the previous
// profile), it writes K candidates; given the candidates that passed
// validation, it may merge them into one. Every output may start with a
// "<think>reasoning</think>" block: the builder keeps the reasoning for
// inspection and trains on the profile only.
//
// Backends: rule_based_teacher.h (event statistics), local_teacher.h (a UPM
// model folder, sampled), http_teacher.h (an OpenAI-compatible endpoint).
// Requests come in batches (a window of users) so that remote backends can
// keep several requests in flight; each request carries its own seed, so a
// user's candidates do not depend on which other users share the batch.

#include <cstdint>
#include <string>
#include <vector>

#include "upm/data/event.h"

namespace upm {

struct TeacherRequest {
  std::string user_id;
  std::vector<data::Event> events;  // chronological: the history slice, or the new events of an update
  std::string previous_profile;     // "" = none (a first profile)
  std::string prompt;               // the prompt text for LM teachers (profile or update prompt [+ guide])
  int64_t candidates = 1;           // K
  uint64_t seed = 0;                // per user and round
};

struct MergeRequest {
  std::string user_id;
  std::vector<std::string> profiles;  // the kept candidates, best first
  std::string previous_profile;       // "" = none
  std::string prompt;                 // the merge prompt text for LM teachers
  uint64_t seed = 0;
};

struct TeacherOutput {
  bool ok = false;
  std::string profile;    // when ok: the text after </think>
  std::string reasoning;  // the <think> block, "" without one
  std::string problem;    // when not ok (unclosed <think>, empty profile, remote failure)
};

// A generated text -> TeacherOutput (the <think> split; an unclosed block or an
// empty profile is not ok).
TeacherOutput teacher_output_from_text(const std::string& generated);

class Teacher {
 public:
  virtual ~Teacher() = default;
  // One list of `candidates` outputs per request, in request order.
  virtual std::vector<std::vector<TeacherOutput>> generate(const std::vector<TeacherRequest>& requests) = 0;
  // One merged profile per request.
  virtual std::vector<TeacherOutput> merge(const std::vector<MergeRequest>& requests) = 0;
  // Written into the inspection records ("rule", a model name, an endpoint's model).
  virtual std::string name() const = 0;
};

}  // namespace upm
