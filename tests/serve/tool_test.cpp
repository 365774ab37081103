// upm-serve as a user runs it: --port 0 prints the bound base URL on stdout,
// clients are served over loopback with the bearer key, SIGTERM / SIGINT end
// it with exit 0, bad input exits 2 naming what is wrong.

#include <csignal>
#include <cstdio>
#include <regex>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "serve_test_util.h"
#include "upm/text/utf8.h"

namespace upm::test {
namespace {

// upm-serve in a child process; stdout piped back, stderr to a file.
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const std::string& log_path) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      FILE* log = std::fopen(log_path.c_str(), "w");
      if (log) dup2(fileno(log), STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      const std::string bin = std::string(UPM_BIN_DIR) + "/upm-serve";
      std::vector<char*> argv{const_cast<char*>(bin.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
  }
  ~ServeProcess() {
    if (pid_ > 0) stop(SIGKILL);
    if (out_) std::fclose(out_);
  }
  // The first stdout line ("" at EOF: the server exited).
  std::string first_line() {
    char buffer[512];
    if (!std::fgets(buffer, sizeof buffer, out_)) return "";
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  // Sends `signal` and returns the exit code (-1 if killed by a signal).
  int stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

TEST(UpmServe, PortZeroPrintsTheAddressServesAndStopsOnSignals) {
  TempDir dir;
  ::setenv("UPM_SERVE_TOOL_KEY", "tool-key", 1);
  for (int signal : {SIGTERM, SIGINT}) {
    ServeProcess process({"--model", tiny_model_dir(), "--port", "0", "--api-key-env", "UPM_SERVE_TOOL_KEY",
                          "--max-tokens", "32"},
                         dir.file("serve.log"));
    const std::string url = process.first_line();
    ASSERT_TRUE(std::regex_match(url, std::regex(R"(http://127\.0\.0\.1:[0-9]+/v1)"))) << url << "\n"
                                                                                      << read_text(dir.file("serve.log"));
    serve::OpenAIClientConfig config;
    config.base_url = url;
    config.model = "tiny-qwen3";
    config.api_key_env = "UPM_SERVE_TOOL_KEY";
    serve::OpenAIClient client(config);
    EXPECT_EQ(client.models(), std::vector<std::string>{"tiny-qwen3"});
    serve::ChatRequest request = user_request("Hello from the tool test", 6);
    const std::string expected = serve_engine().complete(request).choices[0].content;
    EXPECT_EQ(client.chat(request).choices[0].content, text::utf8_lossy(expected));
    request.max_tokens = 33;
    UPM_EXPECT_THROW_WITH(client.chat(request), serve::RemoteError, "HTTP 400: request body: max_tokens: 33 exceeds");
    EXPECT_EQ(process.stop(signal), 0) << read_text(dir.file("serve.log"));
  }
  ::unsetenv("UPM_SERVE_TOOL_KEY");
}

TEST(UpmServe, BadInputExitsTwoNamingTheProblem) {
  auto missing_model = run_tool("upm-serve", "--model /nonexistent/model --port 0");
  EXPECT_EQ(missing_model.code, 2) << missing_model.output;
  EXPECT_NE(missing_model.output.find("/nonexistent/model"), std::string::npos) << missing_model.output;
  ::unsetenv("UPM_SERVE_TOOL_UNSET");
  auto missing_key = run_tool("upm-serve", "--model " + tiny_model_dir() + " --port 0 --api-key-env UPM_SERVE_TOOL_UNSET");
  EXPECT_EQ(missing_key.code, 2) << missing_key.output;
  EXPECT_NE(missing_key.output.find("environment variable UPM_SERVE_TOOL_UNSET is not set"), std::string::npos)
      << missing_key.output;
  EXPECT_EQ(run_tool("upm-serve", "--model " + tiny_model_dir() + " --port 70000").code, 2);
  EXPECT_EQ(run_tool("upm-serve", "--model " + tiny_model_dir() + " --max-tokens 0").code, 2);
}

}  // namespace
}  // namespace upm::test
