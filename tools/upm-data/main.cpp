#include "upm/core/cli.h"

int main(int argc, char** argv) {
  return upm::cli::run_subcommands("upm-data", "UPM data: convert, synthesize, split, validate, and make training rows",
                                   argc, argv);
}
