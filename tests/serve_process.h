#pragma once
// A UPM tool (upm-serve) run as a child process by a test: stdout piped back
// (upm-serve --port 0 prints its bound base URL there), stderr to a log file,
// killed when the object dies.

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>
#include "test_paths.h"

namespace upm::test {

class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const std::string& log_path,
               const std::string& tool = "upm-serve") {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      FILE* log = std::fopen(log_path.c_str(), "w");
      if (log) dup2(fileno(log), STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      const std::string bin = upm::test::bin_dir() + "/" + tool;
      std::vector<char*> argv{const_cast<char*>(bin.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
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

}  // namespace upm::test
