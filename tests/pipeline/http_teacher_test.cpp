// The HTTP teacher against real servers on loopback: upm-serve's ChatServer
// serving the tiny model (K via "n" or K seeded requests, build-sft end to
// end), and hand-written endpoints that fail on purpose (5xx then success,
// malformed bodies, timeouts, too few choices). Nothing leaves 127.0.0.1.
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <httplib.h>

#include "serve/fake_endpoint.h"
#include "serve/serve_test_util.h"
#include "pipeline_test_util.h"
#include "upm/pipeline/teach/http_teacher.h"
#include "upm/pipeline/teach/sft_data_builder.h"

namespace {

using nlohmann::json;

upm::HttpTeacherConfig http_config(const upm::openai::OpenAIClientConfig& client, bool use_n = true) {
  upm::HttpTeacherConfig c;
  c.client = client;
  c.max_tokens = 8;
  c.use_n = use_n;
  c.system_prompt = "You write user profiles.";
  return c;
}

const char* kPrompt = "Describe the user who rated \"Heat\" 5 and wrote \"I never watch horror.\"";

upm::TeacherRequest request(const std::string& user, int64_t k, uint64_t seed) {
  upm::TeacherRequest r;
  r.user_id = user;
  r.prompt = kPrompt;
  r.candidates = k;
  r.seed = seed;
  return r;
}

// The endpoint's answer to the teacher's request, asked directly.
std::vector<upm::TeacherOutput> direct(upm::openai::OpenAIClient& client, const upm::HttpTeacherConfig& c, int64_t n,
                                       uint64_t seed) {
  upm::openai::ChatRequest r;
  r.messages = {{"system", c.system_prompt}, {"user", kPrompt}};
  r.temperature = c.temperature;
  r.max_tokens = c.max_tokens;
  r.n = n;
  r.seed = seed;
  std::vector<upm::TeacherOutput> out;
  for (const auto& choice : client.chat(r).choices) out.push_back(upm::teacher_output_from_text(choice.content));
  return out;
}

std::string show(const upm::TeacherOutput& o) { return o.reasoning + "|" + o.profile + "|" + o.problem; }

TEST(HttpTeacher, CandidatesAreTheServersSeededSamples) {
  upm::test::RunningServer server;
  upm::openai::OpenAIClient client(server.client_config());
  for (bool use_n : {true, false}) {
    const upm::HttpTeacherConfig config = http_config(server.client_config(), use_n);
    upm::HttpTeacher teacher(config);
    const auto out = teacher.generate({request("a", 3, 40), request("b", 2, 41)});
    ASSERT_EQ(out.size(), 2u);
    ASSERT_EQ(out[0].size(), 3u);
    ASSERT_EQ(out[1].size(), 2u);
    std::vector<upm::TeacherOutput> expected;
    if (use_n) {
      expected = direct(client, config, 3, 40);
    } else {
      for (uint64_t k = 0; k < 3; ++k) expected.push_back(direct(client, config, 1, 40 + k)[0]);
    }
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(show(out[0][k]), show(expected[k])) << "use_n " << use_n << " k " << k;
    EXPECT_EQ(show(teacher.generate({request("a", 3, 40)})[0][2]), show(out[0][2]));
  }
}

// Synthetic users split into DIR/history.jsonl and DIR/val.jsonl.
void synthetic_split(const std::string& dir, int users) {
  upm::test::write_synthetic_split(dir, {users, 0, 8, 10, 0.3});
}

upm::BuildSftConfig http_build(const std::string& dir, const upm::openai::OpenAIClientConfig& client) {
  upm::BuildSftConfig c;
  c.run_dir = dir + "/run";
  c.history = dir + "/history.jsonl";
  c.tasks = dir + "/val.jsonl";
  c.predictor.model = upm::test::tiny_model_dir();
  c.teacher.kind = "http";
  c.teacher.candidates = 2;
  c.teacher.http = http_config(client);
  c.validate.vs_baseline = "none";
  c.validate.min_accuracy = 0.0;  // keep everything: the merge request must go out
  c.merge.kind = "teacher";
  c.merge.min_accuracy = 0.0;
  return c;
}

TEST(HttpTeacher, BuildSftThroughUpmServe) {
  upm::test::TempDir dir;
  synthetic_split(dir.path(), 3);
  upm::test::RunningServer server;
  const auto summary = upm::run_build_sft(http_build(dir.path(), server.client_config()));
  EXPECT_EQ(summary.job.written, 3);
  int merges = 0;
  for (const auto& record : upm::test::read_json_lines(summary.job.output_path)) {
    EXPECT_EQ(record.at("teacher"), upm::test::serve_engine().model_id());
    for (const auto& round : record.at("rounds")) merges += round.contains("merge");
  }
  EXPECT_GT(merges, 0);
}

using upm::test::FakeEndpoint;
using upm::test::Handler;

// `choices` answers (0 = as many as asked) of a fixed profile with reasoning.
Handler answering(int64_t choices = 0) {
  return [choices](const httplib::Request& req, httplib::Response& res) {
    const auto request = upm::openai::chat_request_from_json(json::parse(req.body), "request");
    upm::openai::ChatResponse response;
    response.model = request.model;
    for (int64_t i = 0; i < (choices ? choices : request.n); ++i) {
      response.choices.push_back({i, "<think>votes</think>\n\nLikes comedy.", "stop", {}});
    }
    res.set_content(upm::openai::to_json(response).dump(), "application/json");
  };
}

TEST(HttpTeacher, ServerErrorsAreRetriedAndEveryUserWritten) {
  upm::test::TempDir dir;
  synthetic_split(dir.path(), 2);
  std::atomic<int> failures{0};
  FakeEndpoint endpoint([&](const httplib::Request& req, httplib::Response& res) {
    if (failures++ < 2) {
      res.status = 503;
      res.set_content("overloaded", "text/plain");
      return;
    }
    answering()(req, res);
  });
  const auto summary = upm::run_build_sft(http_build(dir.path(), endpoint.config()));
  EXPECT_EQ(summary.job.written, 2);
  for (const auto& record : upm::test::read_json_lines(summary.job.output_path)) {
    const json& c = record.at("rounds")[0].at("candidates")[0];
    EXPECT_EQ(c.at("profile"), "Likes comedy.");
    EXPECT_EQ(c.at("reasoning"), "votes");
  }
  EXPECT_GT(endpoint.requests.load(), 2);
}

TEST(HttpTeacher, MalformedAnswersStopTheJobWithExitOneAndTheRerunResumes) {
  upm::test::TempDir dir;
  synthetic_split(dir.path(), 2);
  {
    FakeEndpoint broken([](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"choices\": [{\"message\": 7}", "application/json");
    });
    try {
      upm::run_build_sft(http_build(dir.path(), broken.config()));
      ADD_FAILURE() << "a malformed answer must stop the job";
    } catch (const std::exception& e) {
      EXPECT_EQ(upm::exit_code_for(e), 1) << e.what();
      EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    }
    // At most one request per user of the window, none retried. The window's
    // requests go out concurrently and the first malformed answer stops the
    // job, so the second may never reach the server (seen once in CI).
    EXPECT_GE(broken.requests.load(), 1);
    EXPECT_LE(broken.requests.load(), 2) << "a malformed answer must not be retried";
  }
  EXPECT_TRUE(upm::test::read_json_lines(dir.path() + "/run/candidates.jsonl").empty());
  FakeEndpoint good(answering());
  EXPECT_EQ(upm::run_build_sft(http_build(dir.path(), good.config())).job.written, 2);
}

TEST(HttpTeacher, TimeoutsAreRetriedThenReported) {
  FakeEndpoint slow([](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    answering()(req, res);
  });
  auto client = slow.config();
  client.timeout_s = 0.2;
  client.max_retries = 1;
  upm::HttpTeacher teacher(http_config(client));
  EXPECT_THROW(teacher.generate({request("a", 2, 1)}), upm::openai::RemoteError);
  EXPECT_EQ(slow.requests.load(), 2);
}

TEST(HttpTeacher, TooFewChoicesLeaveFailedCandidates) {
  FakeEndpoint stingy(answering(1));
  upm::HttpTeacher teacher(http_config(stingy.config()));
  const auto out = teacher.generate({request("a", 3, 1)});
  ASSERT_EQ(out[0].size(), 3u);
  EXPECT_TRUE(out[0][0].ok);
  EXPECT_FALSE(out[0][2].ok);
  EXPECT_EQ(out[0][2].problem, "the endpoint returned 1 of 3 choices");
}

}  // namespace
