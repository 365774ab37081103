#include "upm/core/cli.h"

int main(int argc, char** argv) {
  return upm::cli::run_subcommands("upm-infer", "UPM raw model and tokenizer use", argc, argv);
}
