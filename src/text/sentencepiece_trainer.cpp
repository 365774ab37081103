#include "upm/text/sentencepiece_trainer.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"

namespace upm {
namespace {

namespace fs = std::filesystem;

void check_options(const SentencePieceTrainOptions& options) {
  if (options.input.empty()) throw InputError(Location{"", 0, "input"}, "required");
  if (options.output_dir.empty()) throw InputError(Location{"", 0, "output"}, "required");
  std::error_code error;
  if (!fs::is_regular_file(options.input, error) || fs::file_size(options.input, error) == 0)
    throw InputError(Location{options.input, 0, ""}, "training corpus missing or empty");
  if (options.vocab_size < 8) throw InputError(Location{"", 0, "vocab_size"}, "must be >= 8");
  for (const auto& symbol : options.user_defined_symbols)
    if (symbol.empty() || symbol.find(',') != std::string::npos)
      throw InputError(Location{"", 0, "user_defined_symbols"}, "empty symbol or one with a comma");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// Lets load_tokenizer() find bos / eos / pad by name, as for an HF folder.
void write_tokenizer_config(const fs::path& dir) {
  nlohmann::json config = {{"bos_token", "<s>"},
                           {"eos_token", "</s>"},
                           {"pad_token", "<pad>"},
                           {"unk_token", "<unk>"},
                           {"tokenizer_class", "upm.SentencePiece"}};
  write_file_atomic((dir / "tokenizer_config.json").string(), config.dump(2) + "\n");
}

// Last non-empty line of the trainer's log: SentencePiece's reason for failing.
std::string last_line(const fs::path& log) {
  std::ifstream file(log);
  std::string line, last;
  while (std::getline(file, line))
    if (!line.empty() && line.find("Program terminated") == std::string::npos) last = line;
  return last;
}

// Runs `argv` (no shell) with stdout and stderr into `log`; returns the exit status.
int run_process(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw Error(std::string("cannot run ") + argv[0] + ": " + std::strerror(rc) +
                " (install the Debian package 'sentencepiece')");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

void train_sentencepiece(const SentencePieceTrainOptions& options) {
  check_options(options);
  fs::create_directories(options.output_dir);
  // std::map: a stable argument order, so the same options give the same run.
  std::map<std::string, std::string> args{
      {"input", options.input},
      {"model_prefix", (fs::path(options.output_dir) / "tokenizer").string()},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"model_type", options.model_type},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"byte_fallback", options.byte_fallback ? "true" : "false"},
      {"num_threads", std::to_string(options.num_threads)},
      // Exact round trip: no NFKC, no whitespace collapsing.
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "3"},
  };
  if (options.max_sentences > 0) {
    args["input_sentence_size"] = std::to_string(options.max_sentences);
    args["shuffle_input_sentence"] = "true";
  }
  if (!options.user_defined_symbols.empty()) args["user_defined_symbols"] = join(options.user_defined_symbols);
  // The spm_train tool, not libsentencepiece_train: the library cannot run
  // in a process that holds LibTorch (see src/text/sentencepiece_model.h).
  std::vector<std::string> argv{"spm_train"};
  for (const auto& [key, value] : args) argv.push_back("--" + key + "=" + value);
  fs::path log = fs::path(options.output_dir) / "spm_train.log";
  int status = run_process(argv, log);
  // Its failures are about the corpus or the options (e.g. a vocabulary
  // larger than the corpus allows).
  if (status != 0)
    throw InputError(Location{options.input, 0, ""},
                     "SentencePiece training failed: " + last_line(log) + " (full log: " + log.string() + ")");
  fs::remove(log);
  write_tokenizer_config(options.output_dir);
}

}  // namespace upm
