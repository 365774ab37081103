// upm-infer: raw LM and tokenizer use. Each subcommand lives in its own file and registers itself.
#include "upm/core/cli.h"

int main(int argc, char** argv) {
  return upm::cli::run_subcommands("upm-infer", "raw LM and tokenizer use: generate, chat, score, tokenize, detokenize",
                                   argc, argv);
}
