// upm-serve --model DIR [--host 127.0.0.1] [--port 8000] [--api-key-env NAME] [--max-tokens N] ...
// Serves a UPM model folder over the OpenAI chat-completions API (see
// docs/serve.md). Prints the base URL ("http://HOST:PORT/v1") as one line on
// stdout once it accepts connections (--port 0 picks a free port); logs go to
// stderr. SIGINT / SIGTERM stop it cleanly.
#include <csignal>
#include <cstdio>
#include <thread>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/serve/chat_engine.h"
#include "upm/serve/chat_server.h"

namespace {

// Blocks SIGINT and SIGTERM in every thread started after this, so that
// only the waiter below receives them (no handler runs inside the server).
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Serve a model folder over the OpenAI chat-completions API", "upm-serve"};
  std::string model_dir, served_name, chat_template;
  upm::ModelRuntime runtime;
  upm::serve::ChatServerConfig config;
  app.add_option("--model", model_dir, "model folder (config.json, safetensors, tokenizer)")->required();
  app.add_option("--host", config.host, "address to listen on (loopback by default)")->capture_default_str();
  app.add_option("--port", config.port, "port; 0 = any free port")->check(CLI::Range(0, 65535))->capture_default_str();
  app.add_option("--api-key-env", config.api_key_env,
                 "environment variable holding the bearer token every request must carry (none: no auth)");
  app.add_option("--max-tokens", config.max_tokens, "largest max_tokens a request may ask")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--max-n", config.max_n, "most choices (n) per request")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--max-body-bytes", config.max_body_bytes, "largest request body (413 above)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--served-model-name", served_name, "model id in /v1/models and responses (default: folder name)");
  app.add_option("--chat-template", chat_template, "template name overriding the folder's (qwen3, chatml, llama3, ...)");
  app.add_option("--device", runtime.device, "cpu, cuda, cuda:N")->capture_default_str();
  app.add_option("--dtype", runtime.dtype, "float32, bfloat16, float16, auto (the checkpoint's)")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16", "auto"}))
      ->capture_default_str();
  return upm::cli::run(app, argc, argv, [&] {
    const sigset_t signals = stop_signals();
    upm::serve::ChatEngine engine(upm::serve::load_chat_model(model_dir, runtime, served_name, chat_template));
    upm::serve::ChatServer server(engine, config);
    server.bind();
    std::printf("%s\n", server.base_url().c_str());
    std::fflush(stdout);
    spdlog::info("upm-serve: serving {} at {}{}", engine.model_id(), server.base_url(),
                 config.api_key_env.empty() ? "" : " (bearer token from $" + config.api_key_env + ")");
    std::thread waiter([&] {
      int signal = 0;
      sigwait(&signals, &signal);
      spdlog::info("upm-serve: signal {}, stopping", signal);
      server.stop();
    });
    server.serve();
    // serve() may end without a signal (a listen failure): wake the waiter.
    server.stop();
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return 0;
  });
}
