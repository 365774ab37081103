#include "upm/pipeline/teach/http_teacher.h"

#include "upm/openai/openai_client.h"

namespace upm {

HttpTeacher::HttpTeacher(const HttpTeacherConfig& config)
    : config_(config), client_(std::make_unique<openai::OpenAIClient>(config.client)) {}

HttpTeacher::~HttpTeacher() = default;

std::string HttpTeacher::name() const { return config_.client.model; }

openai::ChatRequest HttpTeacher::chat_request(const std::string& prompt, int64_t n, uint64_t seed) const {
  openai::ChatRequest r;
  r.model = config_.client.model;
  if (!config_.system_prompt.empty()) r.messages.push_back({"system", config_.system_prompt});
  r.messages.push_back({"user", prompt});
  r.temperature = config_.temperature;
  r.top_p = config_.top_p;
  r.max_tokens = config_.max_tokens;
  r.n = n;
  r.seed = seed;
  return r;
}

namespace {

// The outputs of `response`, padded with failures when it returned fewer
// choices than asked for.
void collect(const openai::ChatResponse& response, size_t wanted, std::vector<TeacherOutput>& out) {
  for (const auto& choice : response.choices) {
    if (out.size() == wanted) break;
    TeacherOutput o = teacher_output_from_text(choice.content);
    if (!o.ok && choice.finish_reason == "length") o.problem += " (cut at http.max_tokens)";
    out.push_back(std::move(o));
  }
}

}  // namespace

std::vector<std::vector<TeacherOutput>> HttpTeacher::generate(const std::vector<TeacherRequest>& requests) {
  std::vector<openai::ChatRequest> chats;
  std::vector<size_t> owner;  // request index of each chat
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (config_.use_n) {
      chats.push_back(chat_request(r.prompt, r.candidates, r.seed));
      owner.push_back(i);
    } else {
      for (int64_t k = 0; k < r.candidates; ++k) {
        chats.push_back(chat_request(r.prompt, 1, r.seed + uint64_t(k)));
        owner.push_back(i);
      }
    }
  }
  const auto responses = client_->chat_many(chats);
  std::vector<std::vector<TeacherOutput>> out(requests.size());
  for (size_t c = 0; c < responses.size(); ++c) {
    collect(responses[c], size_t(requests[owner[c]].candidates), out[owner[c]]);
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    const size_t got = out[i].size();
    for (size_t k = got; k < size_t(requests[i].candidates); ++k) {
      TeacherOutput missing;
      missing.problem =
          "the endpoint returned " + std::to_string(got) + " of " + std::to_string(requests[i].candidates) + " choices";
      out[i].push_back(missing);
    }
  }
  return out;
}

std::vector<TeacherOutput> HttpTeacher::merge(const std::vector<MergeRequest>& requests) {
  std::vector<openai::ChatRequest> chats;
  for (const auto& r : requests) chats.push_back(chat_request(r.prompt, 1, r.seed));
  const auto responses = client_->chat_many(chats);
  std::vector<TeacherOutput> out;
  for (const auto& response : responses) {
    std::vector<TeacherOutput> one;
    collect(response, 1, one);
    if (one.empty()) {
      TeacherOutput missing;
      missing.problem = "the endpoint returned no choice";
      one.push_back(missing);
    }
    out.push_back(std::move(one[0]));
  }
  return out;
}

}  // namespace upm
