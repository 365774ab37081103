#pragma once
// A teacher behind any OpenAI-compatible chat-completions endpoint (vLLM,
// SGLang, upm-serve, a hosted API), through openai::OpenAIClient: the prompt
// is one user message (after an optional system message); the K candidates
// are one request with "n": K, or K requests with seeds seed..seed+K-1
// (http.use_n false, for servers without n). A window of users is sent with
// at most client.concurrency requests in flight. A request that still fails
// after the client's retries stops the job (exit 1): the users not written
// are done by the rerun.

#include <memory>

#include "upm/pipeline/teach/teacher.h"
#include "upm/pipeline/teach/teacher_config.h"

namespace upm {

namespace serve {
class OpenAIClient;
struct ChatRequest;
}  // namespace serve

class HttpTeacher : public Teacher {
 public:
  explicit HttpTeacher(const HttpTeacherConfig& config);
  ~HttpTeacher() override;

  std::vector<std::vector<TeacherOutput>> generate(const std::vector<TeacherRequest>& requests) override;
  std::vector<TeacherOutput> merge(const std::vector<MergeRequest>& requests) override;
  std::string name() const override;

 private:
  openai::ChatRequest chat_request(const std::string& prompt, int64_t n, uint64_t seed) const;

  HttpTeacherConfig config_;
  std::unique_ptr<openai::OpenAIClient> client_;
};

}  // namespace upm
