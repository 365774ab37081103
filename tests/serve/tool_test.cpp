// upm-serve as a user runs it: --port 0 prints the bound base URL on stdout,
// clients are served over loopback with the bearer key, SIGTERM / SIGINT end
// it with exit 0, bad input exits 2 naming what is wrong.

#include <csignal>
#include <regex>

#include <gtest/gtest.h>

#include "serve_process.h"
#include "serve_test_util.h"
#include "upm/text/utf8.h"

namespace upm::test {
namespace {

TEST(UpmServe, PortZeroPrintsTheAddressServesAndStopsOnSignals) {
  TempDir dir;
  ::setenv("UPM_SERVE_TOOL_KEY", "tool-key", 1);
  for (int signal : {SIGTERM, SIGINT}) {
    ServeProcess process(
        {"--model", tiny_model_dir(), "--port", "0", "--api-key-env", "UPM_SERVE_TOOL_KEY", "--max-tokens", "32"},
        dir.file("serve.log"));
    const std::string url = process.first_line();
    ASSERT_TRUE(std::regex_match(url, std::regex(R"(http://127\.0\.0\.1:[0-9]+/v1)")))
        << url << "\n"
        << read_text(dir.file("serve.log"));
    openai::OpenAIClientConfig config;
    config.base_url = url;
    config.model = "tiny-qwen3";
    config.api_key_env = "UPM_SERVE_TOOL_KEY";
    openai::OpenAIClient client(config);
    EXPECT_EQ(client.models(), std::vector<std::string>{"tiny-qwen3"});
    openai::ChatRequest request = user_request("Hello from the tool test", 6);
    const std::string expected = serve_engine().complete(request).choices[0].content;
    EXPECT_EQ(client.chat(request).choices[0].content, text::utf8_lossy(expected));
    request.max_tokens = 33;
    UPM_EXPECT_THROW_WITH(client.chat(request), openai::RemoteError, "HTTP 400: request body: max_tokens: 33 exceeds");
    EXPECT_EQ(process.stop(signal), 0) << read_text(dir.file("serve.log"));
  }
  ::unsetenv("UPM_SERVE_TOOL_KEY");
}

TEST(UpmServe, BadInputExitsTwoNamingTheProblem) {
  auto missing_model = run_tool("upm-serve", "--model /nonexistent/model --port 0");
  EXPECT_EQ(missing_model.code, 2) << missing_model.output;
  EXPECT_NE(missing_model.output.find("/nonexistent/model"), std::string::npos) << missing_model.output;
  ::unsetenv("UPM_SERVE_TOOL_UNSET");
  auto missing_key =
      run_tool("upm-serve", "--model " + tiny_model_dir() + " --port 0 --api-key-env UPM_SERVE_TOOL_UNSET");
  EXPECT_EQ(missing_key.code, 2) << missing_key.output;
  EXPECT_NE(missing_key.output.find("environment variable UPM_SERVE_TOOL_UNSET is not set"), std::string::npos)
      << missing_key.output;
  EXPECT_EQ(run_tool("upm-serve", "--model " + tiny_model_dir() + " --port 70000").code, 2);
  EXPECT_EQ(run_tool("upm-serve", "--model " + tiny_model_dir() + " --max-tokens 0").code, 2);
}

}  // namespace
}  // namespace upm::test
