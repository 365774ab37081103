#include "upm/core/cli.h"

int main(int argc, char** argv) {
  return upm::cli::run_subcommands("upm-model", "UPM model-folder operations: import a GGUF file", argc, argv);
}
