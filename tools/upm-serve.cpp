// upm-serve --model DIR [--host 127.0.0.1] [--port 8000] [--api-key-env NAME] [--max-tokens N] ...
// Serves a UPM model folder over the OpenAI chat-completions API (see
// docs/serve.md). Prints the base URL ("http://HOST:PORT/v1") as one line on
// stdout once it accepts connections (--port 0 picks a free port); logs go to
// stderr. SIGINT / SIGTERM stop it cleanly.
#include <csignal>
#include <cstdio>
#include <thread>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/serve/chat_engine.h"
#include "upm/serve/chat_server.h"

namespace {

// SIGINT / SIGTERM write one byte to this pipe (write is async-signal-safe);
// a watcher thread reads it and stops the server. Masking the signals
// instead would not cover the threads libraries start before main (OpenBLAS).
int stop_pipe[2] = {-1, -1};

void on_stop_signal(int) {
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(stop_pipe[1], &byte, 1);
}

void install_stop_handlers() {
  if (pipe(stop_pipe) != 0) throw std::runtime_error("cannot create the signal pipe");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
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
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-n", config.max_n, "most choices (n) per request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-body-bytes", config.max_body_bytes, "largest request body (413 above)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-request-tokens", config.max_request_tokens,
                 "most generated tokens per request, all n choices together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-request-seconds", config.max_request_seconds,
                 "seconds a request may hold the model; decoding stops there (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-connections", config.max_connections, "most open connections (503 above)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-queued-requests", config.max_queued_requests,
                 "most completions waiting for the model (503 above)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--request-read-timeout", config.request_read_timeout_s,
                 "seconds a request's headers and body may take to arrive")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--served-model-name", served_name, "model id in /v1/models and responses (default: folder name)");
  app.add_option("--chat-template", chat_template,
                 "template name overriding the folder's (qwen3, chatml, llama3, ...)");
  app.add_option("--device", runtime.device, "cpu, cuda, cuda:N")->capture_default_str();
  app.add_option("--dtype", runtime.dtype, "float32, bfloat16, float16, auto (the checkpoint's)")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16", "auto"}))
      ->capture_default_str();
  return upm::cli::run(app, argc, argv, [&] {
    upm::serve::ChatEngine engine(upm::serve::load_chat_model(model_dir, runtime, served_name, chat_template));
    upm::serve::ChatServer server(engine, config);
    install_stop_handlers();  // before the address is printed: a caller may signal right after reading it
    server.bind();
    std::printf("%s\n", server.base_url().c_str());
    std::fflush(stdout);
    const bool loopback = config.host == "127.0.0.1" || config.host == "localhost" || config.host == "::1";
    if (!loopback && config.api_key_env.empty()) {
      spdlog::warn("upm-serve: listening on {} without --api-key-env: anyone who can reach it can use the model",
                   config.host);
    }
    spdlog::info("upm-serve: serving {} at {}{}", engine.model_id(), server.base_url(),
                 config.api_key_env.empty() ? "" : " (bearer token from $" + config.api_key_env + ")");
    std::atomic<bool> served{false};
    std::thread watcher([&] {
      char byte = 0;
      while (read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {}
      if (byte == 1) spdlog::info("upm-serve: stop signal received, shutting down");
      // A signal may come before serve() is listening, when stop() has nothing to stop yet.
      while (!served) {
        server.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    server.serve();
    served = true;
    // serve() may end without a signal (a listen failure): wake the watcher.
    const char wake = 0;
    [[maybe_unused]] ssize_t n = write(stop_pipe[1], &wake, 1);
    watcher.join();
    spdlog::info("upm-serve: stopped");
    return 0;
  });
}
